// Package layout builds and parses the S3 object keys of a CloudTrail bucket:
// log files, digest files and Insights files, in the account layout
// ([prefix/]AWSLogs/<account>/...) and the organization layout
// ([prefix/]AWSLogs/<o-id>/<account>/...), Control Tower's prefix included.
//
// Parse is strict about keys that are meant to be CloudTrail keys, because a
// misnamed object in an audit bucket is a finding, and lenient about every
// other object (AWS Config files, folder placeholders, unrelated data), which
// share the bucket and must be skipped rather than rejected.
package layout

import (
	"fmt"
	"strings"
	"time"
)

// Kind says which CloudTrail file an object key names.
type Kind int

// The zero Kind is Other so that a zero Key never claims to be a log file.
const (
	Other       Kind = iota // not a CloudTrail file: ignore it
	LogFile                 // CloudTrail/<region>/... event log file
	DigestFile              // CloudTrail-Digest/<region>/... hourly digest
	InsightFile             // CloudTrail-Insight/<region>/... Insights events
)

// String returns a short lower-case name for messages.
func (k Kind) String() string {
	switch k {
	case LogFile:
		return "log"
	case DigestFile:
		return "digest"
	case InsightFile:
		return "insight"
	case Other:
		return "other"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Folder names under AWSLogs/[o-id/]<account>/ and the file-name tags.
const (
	awsLogs       = "AWSLogs"
	logFolder     = "CloudTrail"
	digestFolder  = "CloudTrail-Digest"
	insightFolder = "CloudTrail-Insight"
	extension     = ".json.gz"
	backfillTag   = "_backfill"
	logStamp      = "20060102T1504Z"
	digestStamp   = "20060102T150405Z"
)

// folder returns the service folder (which is also the tag in file names).
func (k Kind) folder() string {
	switch k {
	case LogFile:
		return logFolder
	case DigestFile:
		return digestFolder
	case InsightFile:
		return insightFolder
	}
	return ""
}

// Key is one parsed object key. For Kind Other only Name is set, and it holds
// the whole key verbatim: such keys have no CloudTrail structure to split.
type Key struct {
	Prefix     string    // trail's S3 key prefix without trailing slash, "" if none
	OrgID      string    // o-... for organization trails, "" for the account layout
	Account    string    // 12-digit account id
	Region     string    // region folder (the source region for digests)
	Year       int       // date folders: delivery date for logs, end date for digests
	Month      int       //
	Day        int       //
	Kind       Kind      //
	FileTime   time.Time // UTC: delivery minute for logs and insights, end time for digests
	Unique     string    // 16-character unique string of log and insight files
	TrailName  string    // digests only
	HomeRegion string    // digests only: the trail's home region
	Backfill   bool      // digests only: a _backfill digest
	Name       string    // file name (last path segment)
}

// String rebuilds the exact object key. It uses the parsed fields, not Name,
// so a Key built by hand renders correctly too; Parse(k.String()) == k holds
// for every Key that Parse returned.
func (k Key) String() string {
	if k.Kind == Other || k.Kind.folder() == "" {
		return k.Name
	}
	return servicePrefix(k.Prefix, k.OrgID, k.Account, k.Region, k.Kind) +
		fmt.Sprintf("%04d/%02d/%02d/", k.Year, k.Month, k.Day) + k.fileName()
}

// fileName renders the file name from the fields.
func (k Key) fileName() string {
	head := k.Account + "_" + k.Kind.folder() + "_" + k.Region + "_"
	t := k.FileTime.UTC()
	if k.Kind == DigestFile {
		name := head + k.TrailName + "_" + k.HomeRegion + "_" + t.Format(digestStamp)
		if k.Backfill {
			name += backfillTag
		}
		return name + extension
	}
	return head + t.Format(logStamp) + "_" + k.Unique + extension
}

// LogKey returns the key CloudTrail gives a log file delivered at t (UTC
// minute) in the account layout (org "") or the organization layout. It does
// not validate its arguments: Parse the result when they come from input.
func LogKey(prefix, org, account, region string, t time.Time, unique string) string {
	t = t.UTC()
	return Key{Prefix: prefix, OrgID: org, Account: account, Region: region,
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(), Kind: LogFile,
		FileTime: t, Unique: unique}.String()
}

// DigestKey returns the key of the digest of trail for account and source
// region whose digest end time is end; the date folders are the end date.
// Like LogKey it does not validate.
func DigestKey(prefix, org, account, region, trail, homeRegion string, end time.Time, backfill bool) string {
	end = end.UTC()
	return Key{Prefix: prefix, OrgID: org, Account: account, Region: region,
		Year: end.Year(), Month: int(end.Month()), Day: end.Day(), Kind: DigestFile,
		FileTime: end, TrailName: trail, HomeRegion: homeRegion, Backfill: backfill}.String()
}

// AccountsPrefix returns "[prefix/]AWSLogs/[org/]": list it with delimiter
// "/" to discover the accounts that deliver to the bucket.
func AccountsPrefix(prefix, org string) string {
	p := joinPrefix(prefix) + awsLogs + "/"
	if org != "" {
		p += org + "/"
	}
	return p
}

// LogPrefix returns ".../<account>/CloudTrail/<region>/". With region ""
// it returns ".../<account>/CloudTrail/", to list the regions.
func LogPrefix(prefix, org, account, region string) string {
	return servicePrefix(prefix, org, account, region, LogFile)
}

// DigestPrefix is LogPrefix for CloudTrail-Digest/. The trailing slash keeps
// a listing of one region from matching a longer region name.
func DigestPrefix(prefix, org, account, region string) string {
	return servicePrefix(prefix, org, account, region, DigestFile)
}

// InsightPrefix is LogPrefix for CloudTrail-Insight/.
func InsightPrefix(prefix, org, account, region string) string {
	return servicePrefix(prefix, org, account, region, InsightFile)
}

// DayPrefix returns the folder holding one UTC day of files of kind, e.g.
// ".../CloudTrail/us-east-1/2024/03/09/", for date-pruned listing. It returns
// "" for Kind Other, which has no folder.
func DayPrefix(prefix, org, account, region string, kind Kind, day time.Time) string {
	if kind.folder() == "" {
		return ""
	}
	day = day.UTC()
	return servicePrefix(prefix, org, account, region, kind) +
		fmt.Sprintf("%04d/%02d/%02d/", day.Year(), int(day.Month()), day.Day())
}

func servicePrefix(prefix, org, account, region string, kind Kind) string {
	p := AccountsPrefix(prefix, org) + account + "/" + kind.folder() + "/"
	if region != "" {
		p += region + "/"
	}
	return p
}

// joinPrefix turns a trail prefix into the leading part of a key. A trailing
// slash typed by a user is dropped so "logs/" and "logs" give the same keys,
// as CloudTrail itself adds the separator.
func joinPrefix(prefix string) string {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return ""
	}
	return prefix + "/"
}
