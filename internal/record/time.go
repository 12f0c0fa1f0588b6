package record

import "time"

// ParseTime reads CloudTrail's time format, 2006-01-02T15:04:05Z with
// optional fractional seconds, into microseconds since the epoch. Other
// formats are refused (ok false) and kept verbatim by the caller.
func ParseTime(b []byte) (micros int64, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return 0, false
	}
	num := func(lo, hi int) (int, bool) {
		n := 0
		for _, c := range b[lo:hi] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	var frac int64
	if rest := b[19 : len(b)-1]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return 0, false
		}
		digits := rest[1:]
		f, ok := num(20, 20+len(digits))
		if !ok {
			return 0, false
		}
		// Scale to microseconds, dropping digits below (DuckDB's TIMESTAMP
		// precision; the verbatim value then goes to Extra).
		scale := int64(1)
		for i := len(digits); i < 6; i++ {
			scale *= 10
		}
		frac = int64(f) * scale
		if len(digits) > 6 {
			return 0, false
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // February 30th and the like
		return 0, false
	}
	return t.UnixMicro() + frac, true
}
