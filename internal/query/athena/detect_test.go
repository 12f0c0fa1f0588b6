package athena

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/detect"
)

// flagRE finds a rule's flag in detect's one-pass Athena scan.
var flagRE = regexp.MustCompile(`(?m)^  coalesce\(\((.*)\), false\) AS r(\d+),?$`)

// TestDetectOnAthena runs the built-in rules through the Athena client
// against the API's wire shapes: one query counts events per account, one
// pass runs every single-event rule, one query per correlation; each is
// pruned to the window's partitions; the StopLogging row the fake returns
// becomes a detection of the right rule, with its time, account, region,
// principal and event id.
func TestDetectOnAthena(t *testing.T) {
	isolate(t)
	var mu sync.Mutex
	sqls := map[string]string{}
	var order []string
	f := newFake(t, func(n int, r request) reply {
		mu.Lock()
		defer mu.Unlock()
		switch r.Op {
		case "StartQueryExecution":
			id := "q" + string(rune('a'+n))
			sqls[id] = r.str("QueryString")
			order = append(order, id)
			return ok(`{"QueryExecutionId":"` + id + `"}`)
		case "GetQueryExecution":
			// The execution of the query asked about, so its results are
			// asked for by its id.
			rep := execution("SUCCEEDED", "DML", "")
			rep.body = strings.ReplaceAll(rep.body, queryID, r.str("QueryExecutionId"))
			return rep
		case "GetQueryResults":
			sql := sqls[r.str("QueryExecutionId")]
			switch {
			case strings.Contains(sql, "count(*) AS events"):
				return results([]string{column("account", "varchar", 2147483647), column("events", "bigint", 19)}, []string{
					row(s("account"), s("events")),
					row(s("111111111111"), s("1520")), row(s("222222222222"), s("310")),
				}, "")
			case strings.HasPrefix(sql, "WITH m AS"): // a correlation: no group reaches its count
				return results([]string{column("first_time", "timestamp(3) with time zone", 3)}, []string{row(s("first_time"))}, "")
			case flagRE.MatchString(sql):
				cols := []string{column("eventid", "varchar", 2147483647), column("eventtime", "varchar", 2147483647),
					column("account", "varchar", 2147483647), column("awsregion", "varchar", 2147483647),
					column("_col4", "varchar", 2147483647), column("sourceipaddress", "varchar", 2147483647),
					column("eventname", "varchar", 2147483647)}
				header := []*string{s("eventid"), s("eventtime"), s("account"), s("awsregion"), s("_col4"), s("sourceipaddress"), s("eventname")}
				vals := []*string{s("3e1f8c2a-0b7d-4f4e-9a51-6d2c8b7e9f10"), s("2026-11-20T10:15:00Z"), s("111111111111"), s("us-east-1"),
					s("arn:aws:sts::111111111111:assumed-role/Admin/mallory"), s("198.51.100.7"), s("StopLogging")}
				for _, m := range flagRE.FindAllStringSubmatch(sql, -1) {
					cols = append(cols, column("r"+m[2], "boolean", 0))
					header = append(header, s("r"+m[2]))
					vals = append(vals, s(map[bool]string{true: "true", false: "false"}[strings.Contains(m[1], "'stoplogging'")]))
				}
				return results(cols, []string{row(header...), row(vals...)}, "")
			}
		}
		return apiError("InternalServerException", "unexpected "+r.Op)
	})
	c := newTestClient(t, f, Options{Database: "trailwarden", Workgroup: "primary"})
	cfg := config.Default()
	cfg.OrganizationID, cfg.ManagementAccount, cfg.LogArchiveAccount = "o-exampleorg1", "111111111111", "222222222222"
	cfg.Bucket, cfg.HomeRegion, cfg.Trail = "acme-cloudtrail-logs", "us-east-1", config.Trail{Name: "org-trail", Organization: true}
	cfg.KMSKeyARN = "arn:aws:kms:us-east-1:222222222222:key/11111111-2222-4333-8444-555555555555"
	since := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cat, rep, err := detect.Detect(context.Background(), c, detect.Options{Config: &cfg,
		Scope: detect.Scope{Since: since, Until: since.Add(48 * time.Hour), Regions: []string{"us-east-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 4 {
		t.Fatalf("%d queries, want 4 (events per account, one pass of the single-event rules, two correlations): %+v", len(order), rep)
	}
	scans := 0
	for _, id := range order {
		sql := sqls[id]
		for _, want := range []string{"FROM cloudtrail_logs", `"timestamp" >= '2026/11/20'`, `"timestamp" <= '2026/11/23'`,
			"from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp('2026-11-20T00:00:00Z')",
			"from_iso8601_timestamp(eventtime) < from_iso8601_timestamp('2026-11-22T00:00:00Z')", "region IN ('us-east-1')"} {
			if !strings.Contains(sql, want) {
				t.Errorf("query %s lacks %s:\n%s", id, want, sql)
			}
		}
		if flagRE.MatchString(sql) {
			scans++
			if n := len(flagRE.FindAllString(sql, -1)); n != len(cat.Ready())-2 {
				t.Errorf("the pass tests %d rules, want %d", n, len(cat.Ready())-2)
			}
		}
		if strings.Count(sql, "'")%2 != 0 || strings.Count(sql, "(") != strings.Count(sql, ")") {
			t.Errorf("query %s: unbalanced quotes or parentheses", id)
		}
	}
	if scans != 1 {
		t.Errorf("%d passes over the table for the single-event rules, want 1", scans)
	}
	if len(rep.Detections) != 1 || rep.Events != 1830 || len(rep.Unknown) != 0 {
		t.Fatalf("report: %+v", rep)
	}
	d := rep.Detections[0]
	if d.RuleID != "2790734b-a956-500b-a696-291b4081e108" || d.Level != "critical" || !d.Time.Equal(since.Add(10*time.Hour+15*time.Minute)) ||
		d.Account != "111111111111" || d.Region != "us-east-1" || d.Principal != "arn:aws:sts::111111111111:assumed-role/Admin/mallory" ||
		d.SourceIP != "198.51.100.7" || len(d.EventIDs) != 1 || d.EventIDs[0] != "3e1f8c2a-0b7d-4f4e-9a51-6d2c8b7e9f10" {
		t.Errorf("detection %+v", d)
	}
	if rep.Verdict("high") != "detections" {
		t.Errorf("verdict %s", rep.Verdict("high"))
	}
}
