package athena

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/query"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func orgConfig() *config.Config {
	c := config.Default()
	c.OrganizationID = "o-a1b2c3d4e5"
	c.ManagementAccount = "111111111111"
	c.LogArchiveAccount = "222222222222"
	c.SourceAccounts = []string{"111111111111", "222222222222", "333333333333", "012345678901"}
	c.Bucket = "acme-org-cloudtrail"
	c.KeyPrefix = "central"
	c.HomeRegion = "eu-west-1"
	c.Trail = config.Trail{Name: "org-trail", Organization: true}
	return &c
}

func accountConfig() *config.Config {
	c := config.Default()
	c.LogArchiveAccount = "222222222222"
	c.SourceAccounts = []string{"333333333333", "444444444444"}
	c.Bucket = "acme-cloudtrail"
	c.HomeRegion = "us-east-1"
	c.Trail = config.Trail{Name: "audit-trail"}
	return &c
}

func TestDDLGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		c      *config.Config
		o      DDLOptions
	}{
		{"organization.sql", orgConfig(), DDLOptions{Accounts: orgConfig().SourceAccounts}},
		{"per-account.sql", accountConfig(), DDLOptions{Database: "audit", Table: "trail_logs",
			Regions: []string{"us-east-1", "eu-west-1", "us-east-1"}, Since: "2023/06/01"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got, err := DDL(tc.c, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got+"\n" != string(want) {
				t.Errorf("DDL differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

func TestDDLLayouts(t *testing.T) {
	org, err := DDL(orgConfig(), DDLOptions{Accounts: orgConfig().SourceAccounts})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `trailwarden`.`cloudtrail_logs` (",
		"LOCATION 's3://acme-org-cloudtrail/central/AWSLogs/o-a1b2c3d4e5/'",
		"'storage.location.template'='s3://acme-org-cloudtrail/central/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${timestamp}'",
		"'projection.account.values'='111111111111,222222222222,333333333333,012345678901'",
		"'projection.timestamp.range'='2020/01/01,NOW'",
		"PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)",
	} {
		if !strings.Contains(org, want) {
			t.Errorf("organization DDL lacks %s", want)
		}
	}
	acct, err := DDL(accountConfig(), DDLOptions{Regions: []string{"us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"LOCATION 's3://acme-cloudtrail/AWSLogs/'",
		"'storage.location.template'='s3://acme-cloudtrail/AWSLogs/${account}/CloudTrail/${region}/${timestamp}'",
		"'projection.region.values'='us-east-1'",
	} {
		if !strings.Contains(acct, want) {
			t.Errorf("per-account DDL lacks %s", want)
		}
	}
}

func TestDDLAccounts(t *testing.T) {
	c := orgConfig()
	c.SourceAccounts = nil
	for _, tc := range []struct {
		c    *config.Config
		o    DDLOptions
		want string
	}{
		{c, DDLOptions{Accounts: []string{"999999999999", "888888888888", "999999999999"}}, "999999999999,888888888888"},
		{accountConfig(), DDLOptions{}, "333333333333,444444444444"},
		{accountConfig(), DDLOptions{Accounts: []string{"444444444444"}}, "444444444444"},
	} {
		ddl, err := DDL(tc.c, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ddl, "'projection.account.values'='"+tc.want+"'") {
			t.Errorf("accounts %v: want %s in\n%s", tc.o.Accounts, tc.want, ddl)
		}
	}
}

// Issue 13 item 7: an organization trail with an empty source_accounts
// projected only the management and log-archive accounts, so every query
// skipped every member account. Without the organization's accounts DDL
// now refuses; it never projects a subset.
func TestDDLOrganizationTrailNeedsTheAccounts(t *testing.T) {
	for _, sources := range [][]string{nil, {"333333333333"}} {
		c := orgConfig()
		c.SourceAccounts = sources
		ddl, err := DDL(c, DDLOptions{})
		if !errors.Is(err, ErrAccountsUnknown) || !strings.Contains(err.Error(), "o-a1b2c3d4e5") || ddl != "" {
			t.Errorf("source_accounts %v: DDL = %q, %v; want ErrAccountsUnknown", sources, ddl, err)
		}
	}
}

func TestDDLRejects(t *testing.T) {
	future := time.Now().AddDate(1, 0, 0).Format(sinceLayout)
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		o    DDLOptions
		want string
	}{
		{"database", nil, DDLOptions{Database: "Trail-Warden"}, `database name "Trail-Warden" is not valid`},
		{"table", nil, DDLOptions{Table: "logs; DROP TABLE x"}, `table name "logs; DROP TABLE x" is not valid`},
		{"since format", nil, DDLOptions{Since: "2020-01-01"}, `since "2020-01-01" is not a day in the form yyyy/MM/dd`},
		{"since day", nil, DDLOptions{Since: "2020/02/30"}, "is not a day"},
		{"since unpadded", nil, DDLOptions{Since: "2020/1/1"}, "is not a day"},
		{"since future", nil, DDLOptions{Since: future}, "is in the future"},
		{"account", nil, DDLOptions{Accounts: []string{"12345"}}, `"12345" is not an AWS account id`},
		{"region", nil, DDLOptions{Regions: []string{"eu-west-1", "${region}"}}, `"${region}" is not an AWS region name`},
		{"no accounts", func(c *config.Config) {
			c.SourceAccounts, c.ManagementAccount, c.LogArchiveAccount, c.Trail.Organization, c.OrganizationID = nil, "", "", false, ""
		}, DDLOptions{}, "no accounts to project"},
		{"organization id", func(c *config.Config) { c.OrganizationID = "" }, DDLOptions{}, "an organization trail writes under its organization id"},
		{"prefix quote", func(c *config.Config) { c.KeyPrefix = "it's" }, DDLOptions{}, "contains a quote"},
		{"prefix slash", func(c *config.Config) { c.KeyPrefix = "/logs" }, DDLOptions{}, "is not a valid key prefix"},
		{"bucket", func(c *config.Config) { c.Bucket = "Acme_Logs" }, DDLOptions{}, "is not a valid S3 bucket name"},
		{"home region", func(c *config.Config) { c.HomeRegion = "" }, DDLOptions{}, "home region"},
	} {
		c := orgConfig()
		if tc.edit != nil {
			tc.edit(c)
		}
		if tc.o.Accounts == nil && c.Trail.Organization {
			tc.o.Accounts = c.SourceAccounts // the organization's, as the resolver gives them
		}
		if _, err := DDL(c, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "athena: ") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := DDL(nil, DDLOptions{}); err == nil {
		t.Error("nil config accepted")
	}
}

func TestDefaultRegions(t *testing.T) {
	if got := DefaultRegions("us-gov-west-1"); !slices.Equal(got, []string{"us-gov-east-1", "us-gov-west-1"}) {
		t.Errorf("GovCloud: %v", got)
	}
	aws := DefaultRegions("eu-west-1")
	if len(aws) != len(awsid.PartitionRegions("aws")) || !slices.IsSorted(aws) || !slices.Contains(aws, "us-east-1") {
		t.Errorf("commercial: %v", aws)
	}
	// A home region newer than the list is still projected.
	if got := DefaultRegions("eu-west-9"); !slices.Contains(got, "eu-west-9") || len(got) != len(aws)+1 {
		t.Errorf("new region: %v", got)
	}
}

// ddlPaths lists the columns of the DDL, struct fields as dotted paths.
func ddlPaths(t *testing.T) []string {
	t.Helper()
	toks := regexp.MustCompile(`[a-z0-9_]+|[<>:,]`).FindAllString(strings.ToLower(columns), -1)
	i := 0
	var paths []string
	var typ func(prefix string)
	typ = func(prefix string) {
		kind := toks[i]
		i++
		switch kind {
		case "struct":
			i++ // <
			for {
				name := toks[i]
				i += 2 // name :
				paths = append(paths, prefix+"."+name)
				typ(prefix + "." + name)
				i++ // , or >
				if toks[i-1] == ">" {
					return
				}
			}
		case "array", "map":
			i++ // <
			typ(prefix + "[]")
			if toks[i] == "," {
				i++
				typ(prefix + "[]")
			}
			i++ // >
		}
	}
	for i < len(toks) {
		name := toks[i]
		i++
		paths = append(paths, name)
		typ(name)
		if i < len(toks) {
			i++ // ,
		}
	}
	return paths
}

// TestNamedQueriesMatchDDL checks every column the named queries' Athena
// SQL names is a column (or struct field) of the generated table.
func TestNamedQueriesMatchDDL(t *testing.T) {
	paths := ddlPaths(t)
	for _, want := range []string{"eventtime", "useridentity.sessioncontext.sessionissuer.arn", "tlsdetails.ciphersuite"} {
		if !slices.Contains(paths, want) {
			t.Fatalf("DDL parser: %s missing from %v", want, paths)
		}
	}
	paths = append(paths, "account", "region", "timestamp", query.AthenaTable)
	literal := regexp.MustCompile(`'[^']*'`)
	quoted := regexp.MustCompile(`"([^"]*)"`)
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\s*\(?`)
	alias := regexp.MustCompile(`\bAS ([a-z_]+)`)
	sqlWords := strings.Fields(`select from where and or not in is null as order by desc asc limit group distinct
		like interval day current_date`)
	for _, q := range query.NamedQueries() {
		sql := q.SQL["athena"]
		var aliases []string
		for _, m := range alias.FindAllStringSubmatch(sql, -1) {
			aliases = append(aliases, m[1])
		}
		sql = quoted.ReplaceAllString(literal.ReplaceAllString(sql, "''"), "$1")
		for _, id := range ident.FindAllString(sql, -1) {
			if strings.HasSuffix(id, "(") {
				continue // a function
			}
			id = strings.TrimSpace(id)
			if !slices.Contains(paths, id) && !slices.Contains(sqlWords, strings.ToLower(id)) && !slices.Contains(aliases, id) {
				t.Errorf("%s: %q is not a column of the table", q.Name, id)
			}
		}
	}
}

func TestForTable(t *testing.T) {
	q, _ := query.Lookup("events-by-name")
	sql := q.SQL["athena"]
	got := ForTable(sql, "audit", "trail_logs")
	if strings.Contains(got, DefaultTable) || !strings.Contains(got, "FROM \"audit\".\"trail_logs\"\nWHERE") {
		t.Errorf("ForTable:\n%s", got)
	}
	if got := ForTable(sql, "", ""); !strings.Contains(got, `FROM "cloudtrail_logs"`) {
		t.Errorf("ForTable without names:\n%s", got)
	}
	if got := ForTable("SELECT * FROM cloudtrail_logs_v2, cloudtrail_logs", "db", `x"y`); got != `SELECT * FROM cloudtrail_logs_v2, "db"."x""y"` {
		t.Errorf("ForTable = %s", got)
	}
}
