package athena

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/query"
)

// Defaults of DDLOptions.
const (
	DefaultDatabase = "trailwarden"
	DefaultTable    = query.AthenaTable // the table the named queries read
	DefaultSince    = "2020/01/01"
)

// sinceLayout is projection.timestamp.format (yyyy/MM/dd) in Go's notation.
const sinceLayout = "2006/01/02"

// DDLOptions tune the generated table.
type DDLOptions struct {
	// Database and Table name the table: lower-case letters, digits and
	// underscores. Defaults: DefaultDatabase, DefaultTable.
	Database, Table string
	// Accounts are the projected account partitions. An organization
	// trail logs every account of the organization, so for one Accounts is
	// required (the organization's accounts, from the expected-set
	// resolver): DDL refuses with ErrAccountsUnknown rather than project a
	// subset. For per-account trails the default is the config's
	// source_accounts, the accounts that own a trail.
	Accounts []string
	// Regions are the projected region partitions. Default: the home
	// region and every region of its partition (for the aws partition, all
	// commercial regions).
	Regions []string
	// Since is the first projected day, yyyy/MM/dd. Default: DefaultSince.
	Since string
}

// ErrAccountsUnknown is returned (wrapped) by DDL for an organization trail
// without the list of the organization's accounts. A table that projects
// fewer accounts than deliver makes every query silently skip the others.
var ErrAccountsUnknown = errors.New("the accounts to project are unknown")

var nameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// CheckName validates a database or table name: Athena (the Glue catalog)
// accepts lower-case letters, digits and underscores. what names the
// value in the error ("database", "table").
func CheckName(what, name string) error {
	if len(name) > 255 || !nameRE.MatchString(name) {
		return fmt.Errorf("athena: %s name %q is not valid: use lower-case letters, digits and underscores (for example trailwarden)", what, name)
	}
	return nil
}

// DefaultRegions is the default region projection for a home region: the
// home region and every region of its partition, sorted.
func DefaultRegions(home string) []string {
	rs := append([]string{home}, awsid.PartitionRegions(awsid.Partition(home))...)
	slices.Sort(rs)
	return slices.Compact(rs)
}

// columns is the column list of AWS's CloudTrail table for Athena
// ("Create the table for CloudTrail logs in Athena using manual
// partitioning", Athena User Guide), lower-cased. The JSON SerDe matches
// record keys to columns without regard to case.
const columns = `  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<
      userid: STRING,
      identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<
        mfaauthenticated: STRING,
        creationdate: STRING>,
      sessionissuer: STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: MAP<STRING,STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<
    arn: STRING,
    accountid: STRING,
    type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<
    reason: STRING,
    updatedfields: STRING,
    originalrequestid: STRING,
    originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<
    tlsversion: STRING,
    ciphersuite: STRING,
    clientprovidedhostheader: STRING>`

// DDL returns the CREATE EXTERNAL TABLE statement of a table over the
// CloudTrail logs the config describes, partitioned by account, region and
// delivery day with partition projection, so no partition ever needs
// adding:
//
//	organization trail: s3://bucket/[prefix/]AWSLogs/<o-id>/${account}/CloudTrail/${region}/${timestamp}
//	per-account trails: s3://bucket/[prefix/]AWSLogs/${account}/CloudTrail/${region}/${timestamp}
//
// account and region are enums (a query reads only the listed accounts and
// regions), timestamp is the yyyy/MM/dd date folder from Since to NOW by
// one day. The statement is CREATE EXTERNAL TABLE IF NOT EXISTS, so a
// second run leaves an existing table as it is: to change the projected
// accounts or regions, DROP TABLE (the logs are not touched) and create it
// again, or ALTER TABLE ... SET TBLPROPERTIES.
func DDL(c *config.Config, o DDLOptions) (string, error) {
	if c == nil {
		return "", errors.New("athena: no config")
	}
	o, err := o.withDefaults(c)
	if err != nil {
		return "", err
	}
	root, err := logRoot(c)
	if err != nil {
		return "", err
	}
	template := root + "${account}/CloudTrail/${region}/${timestamp}"

	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n%s\n)\n", o.Database, o.Table, columns)
	b.WriteString("PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)\n")
	b.WriteString("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n")
	b.WriteString("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n")
	b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	fmt.Fprintf(&b, "LOCATION '%s'\n", root)
	b.WriteString("TBLPROPERTIES (\n")
	props := [][2]string{
		{"projection.enabled", "true"},
		{"projection.account.type", "enum"},
		{"projection.account.values", strings.Join(o.Accounts, ",")},
		{"projection.region.type", "enum"},
		{"projection.region.values", strings.Join(o.Regions, ",")},
		{"projection.timestamp.type", "date"},
		{"projection.timestamp.format", "yyyy/MM/dd"},
		{"projection.timestamp.range", o.Since + ",NOW"},
		{"projection.timestamp.interval", "1"},
		{"projection.timestamp.interval.unit", "DAYS"},
		{"storage.location.template", template},
	}
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s'='%s'%s\n", p[0], p[1], sep)
	}
	b.WriteString(")")
	return b.String(), nil
}

// logRoot is s3://bucket/[prefix/]AWSLogs/[o-id/], the folder above the
// account folders.
func logRoot(c *config.Config) (string, error) {
	if err := awsid.Bucket(c.Bucket); err != nil {
		return "", fmt.Errorf("athena: %w", err)
	}
	if err := awsid.KeyPrefix(c.KeyPrefix); err != nil {
		return "", fmt.Errorf("athena: %w", err)
	}
	// KeyPrefix refuses $, quotes and backslashes except the single quote,
	// which would end the SQL string.
	if strings.ContainsAny(c.KeyPrefix, "'`") {
		return "", fmt.Errorf("athena: key prefix %q contains a quote, which the table's location cannot hold", c.KeyPrefix)
	}
	root := "s3://" + c.Bucket + "/" + c.LogRoot() + "AWSLogs/"
	if c.Trail.Organization {
		if err := awsid.Organization(c.OrganizationID); err != nil {
			return "", fmt.Errorf("athena: an organization trail writes under its organization id: %w", err)
		}
		root += c.OrganizationID + "/"
	}
	return root, nil
}

func (o DDLOptions) withDefaults(c *config.Config) (DDLOptions, error) {
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if err := CheckName("database", o.Database); err != nil {
		return o, err
	}
	if err := CheckName("table", o.Table); err != nil {
		return o, err
	}
	if o.Since == "" {
		o.Since = DefaultSince
	}
	since, err := time.Parse(sinceLayout, o.Since)
	if err != nil || since.Format(sinceLayout) != o.Since {
		return o, fmt.Errorf("athena: since %q is not a day in the form yyyy/MM/dd (for example %s)", o.Since, DefaultSince)
	}
	if since.After(time.Now()) {
		return o, fmt.Errorf("athena: since %s is in the future", o.Since)
	}

	accounts := o.Accounts
	if len(accounts) == 0 && c.Trail.Organization {
		// Not the config's source_accounts, nor its management and
		// log-archive accounts: an organization trail delivers for every
		// member, and a table over some of them hides the rest.
		return o, fmt.Errorf("athena: an organization trail of %s logs every account of the organization: %w", orgOrUnknown(c.OrganizationID), ErrAccountsUnknown)
	}
	if len(accounts) == 0 {
		accounts = c.SourceAccounts
	}
	if len(accounts) == 0 {
		return o, errors.New("athena: no accounts to project: set source_accounts in the config or pass the accounts")
	}
	o.Accounts = nil
	for _, a := range accounts {
		if err := awsid.Account(a); err != nil {
			return o, fmt.Errorf("athena: %w", err)
		}
		if !slices.Contains(o.Accounts, a) {
			o.Accounts = append(o.Accounts, a)
		}
	}

	regions := o.Regions
	if len(regions) == 0 {
		if err := awsid.Region(c.HomeRegion); err != nil {
			return o, fmt.Errorf("athena: home region: %w", err)
		}
		regions = DefaultRegions(c.HomeRegion)
	}
	o.Regions = nil
	for _, r := range regions {
		if err := awsid.Region(r); err != nil {
			return o, fmt.Errorf("athena: %w", err)
		}
		if !slices.Contains(o.Regions, r) {
			o.Regions = append(o.Regions, r)
		}
	}
	return o, nil
}

var defaultTableRE = regexp.MustCompile(`\b` + DefaultTable + `\b`)

// ForTable points SQL written for the default table (the named queries'
// Athena SQL reads DefaultTable) at table in database: each reference to
// DefaultTable becomes "database"."table". An empty table keeps
// DefaultTable; an empty database leaves the table unqualified, for the
// client's default database. The names are quoted, so a name Athena does
// not accept fails in Athena rather than changing the query.
func ForTable(sql, database, table string) string {
	if table == "" {
		table = DefaultTable
	}
	name := quoteIdent(table)
	if database != "" {
		name = quoteIdent(database) + "." + name
	}
	return defaultTableRE.ReplaceAllLiteralString(sql, name)
}

// quoteIdent quotes a Trino identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func orgOrUnknown(id string) string {
	if id == "" {
		return "an organization"
	}
	return id
}
