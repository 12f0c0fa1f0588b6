package awsfake

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Load adds the recordings of a world file. The file is a list of
// sections, each a header line
//
//	-- ACCOUNT REGION SERVICE OPERATION [RESOURCE [PAGE]] --
//
// ("-" for an empty field) followed by the raw response body. A body may
// start with a status line and headers, as on the wire:
//
//	HTTP/1.1 404 Not Found
//	X-Amzn-ErrorType: NoSuchEntity
//
//	<ErrorResponse>...</ErrorResponse>
//
// Lines before the first section are comments. The final newline of each
// body is dropped.
func (w *World) Load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load world: %w", err)
	}
	return w.Parse(path, string(data))
}

// Parse adds the recordings in text (see Load); name is used in errors.
func (w *World) Parse(name, text string) error {
	var (
		key    *Key
		body   strings.Builder
		line   int
		header int
	)
	flush := func() error {
		if key == nil {
			return nil
		}
		r, err := parseResponse(strings.TrimSuffix(body.String(), "\n"))
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, header, err)
		}
		w.Record(*key, r)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
			if err := flush(); err != nil {
				return err
			}
			f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(l, "-- "), " --"))
			if len(f) < 4 || len(f) > 6 {
				return fmt.Errorf("%s:%d: header needs ACCOUNT REGION SERVICE OPERATION [RESOURCE [PAGE]]", name, line)
			}
			for i := range f {
				if f[i] == "-" {
					f[i] = ""
				}
			}
			for len(f) < 6 {
				f = append(f, "")
			}
			key, header = &Key{Account: f[0], Region: f[1], Service: f[2], Operation: f[3], Resource: f[4], Page: f[5]}, line
			body.Reset()
			continue
		}
		if key != nil {
			body.WriteString(l)
			body.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return flush()
}

func parseResponse(raw string) (Response, error) {
	if !strings.HasPrefix(raw, "HTTP/1.1 ") {
		return Response{Body: raw}, nil
	}
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return Response{}, fmt.Errorf("bad status line %q", lines[0])
	}
	status, err := strconv.Atoi(f[1])
	if err != nil {
		return Response{}, fmt.Errorf("bad status line %q", lines[0])
	}
	r := Response{Status: status, Body: body, Header: http.Header{}}
	for _, h := range lines[1:] {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return Response{}, fmt.Errorf("bad header line %q", h)
		}
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return r, nil
}
