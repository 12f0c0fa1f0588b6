package athena

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRealAthena runs queries on real Athena. It needs
//
//	TRAILWARDEN_AWS_E2E=1
//	TRAILWARDEN_ATHENA_OUTPUT=s3://bucket/folder/   (query results; the workgroup's own location is not assumed)
//	TRAILWARDEN_ATHENA_WORKGROUP=primary            (optional, default primary)
//	AWS_REGION (or TRAILWARDEN_ATHENA_REGION) and credentials from the default chain
//
// and costs a few cents at most: the queries read no table.
func TestRealAthena(t *testing.T) {
	if os.Getenv("TRAILWARDEN_AWS_E2E") != "1" {
		t.Skip("real-AWS test: set TRAILWARDEN_AWS_E2E=1, TRAILWARDEN_ATHENA_OUTPUT=s3://bucket/folder/, " +
			"AWS_REGION and AWS credentials to run it against Athena")
	}
	output := os.Getenv("TRAILWARDEN_ATHENA_OUTPUT")
	if !strings.HasPrefix(output, "s3://") {
		t.Fatal("TRAILWARDEN_AWS_E2E=1 needs TRAILWARDEN_ATHENA_OUTPUT=s3://bucket/folder/ for the query results")
	}
	workgroup := os.Getenv("TRAILWARDEN_ATHENA_WORKGROUP")
	if workgroup == "" {
		workgroup = "primary"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := New(ctx, Options{Region: os.Getenv("TRAILWARDEN_ATHENA_REGION"), Workgroup: workgroup, OutputLocation: output})
	if err != nil {
		t.Fatal(err)
	}

	rows, err := c.Query(ctx, `SELECT n, n % 2 = 0 AS even, CAST(n AS double) / 4 AS quarter, 'x' || CAST(n AS varchar) AS label,
  TIMESTAMP '2024-03-01 12:34:56.789' AS ts, DATE '2024-03-01' AS day, CAST(NULL AS varchar) AS nothing
FROM UNNEST(sequence(1, 2500)) AS t(n)
ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	want := []string{"n", "even", "quarter", "label", "ts", "day", "nothing"}
	if got := rows.Columns(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("columns %v, want %v", got, want)
	}
	n := 0
	for rows.Next() {
		n++
		r := rows.Row()
		if r[0] != int64(n) || r[1] != (n%2 == 0) || r[2] != float64(n)/4 || r[3] != "x"+strconv.Itoa(n) || r[6] != nil {
			t.Fatalf("row %d = %#v", n, r)
		}
		if ts, _ := r[4].(time.Time); !ts.Equal(time.Date(2024, 3, 1, 12, 34, 56, 789e6, time.UTC)) {
			t.Fatalf("row %d ts = %#v", n, r[4])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 2500 {
		t.Errorf("%d rows over three pages, want 2500", n)
	}

	_, err = c.Query(ctx, "SELECT x FROM (SELECT 1 AS y)")
	var qe *QueryError
	if !errors.As(err, &qe) || !strings.HasPrefix(err.Error(), "athena: query failed: ") || !strings.Contains(err.Error(), "'x'") {
		t.Errorf("failed query: %v", err)
	}
}
