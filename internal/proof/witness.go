package proof

import (
	"regexp"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// resourceType pairs actions with the resources they act on, so the
// enumeration never asks S3 to GetObject a bucket.
type resourceType int

const (
	bucketRes resourceType = iota
	objectRes
	keyRes
	roleRes
)

// catalog lists the actions probed for each resource type: the ones the
// pipeline needs, and the dangerous ones that must stay denied.
var catalog = map[resourceType][]string{
	bucketRes: {"s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
		"s3:DeleteBucket", "s3:PutBucketAcl", "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration",
		"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"},
	objectRes: {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:GetObjectVersion", "s3:DeleteObjectVersion"},
	keyRes: {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
		"kms:ReEncryptFrom", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"},
	roleRes: {"sts:AssumeRole", "sts:TagSession", "sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"},
}

// resource is one witness resource.
type resource struct {
	label string
	arn   string
	typ   resourceType
}

func resources(c *config.Config, t Target, docs []*policy.Document) []resource {
	bucket := c.BucketARN()
	var out []resource
	addObj := func(label, key string) { out = append(out, resource{label, bucket + "/" + key, objectRes}) }
	switch t {
	case TargetBucket, TargetAccess:
		out = append(out, resource{"the bucket", bucket, bucketRes})
		for _, a := range representatives(deliveringAccounts(c)) {
			addObj("a log file of account "+a, logKey(c, a))
		}
		if c.Trail.Organization {
			addObj("a log file on the management-account path", strings.Replace(logKey(c, c.ManagementAccount), c.OrganizationID+"/", "", 1))
		}
		addObj("a log file of an account outside the config", logKey(c, foreignAccount))
		addObj("a digest file", strings.Replace(strings.Replace(logKey(c, firstMember(c)), "/CloudTrail/", "/CloudTrail-Digest/", 1), ".json.gz", "_Digest.json.gz", 1))
		addObj("an object outside AWSLogs/", c.LogRoot()+"other/data.csv")
		addObj("an object outside the key prefix", "elsewhere/AWSLogs/"+firstMember(c)+"/x.json.gz")
		for _, w := range patternWitnesses(docs, bucket+"/") {
			addObj("a key matching "+w.pattern, strings.TrimPrefix(w.value, bucket+"/"))
		}
		out = append(out, resource{"another bucket", "arn:" + c.Partition() + ":s3:::other-bucket", bucketRes},
			resource{"an object of another bucket", "arn:" + c.Partition() + ":s3:::other-bucket/AWSLogs/x.json.gz", objectRes})
	}
	switch t {
	case TargetKey, TargetAccess:
		if c.KMSKeyARN != "" {
			out = append(out, resource{"the key", c.KMSKeyARN, keyRes})
			other := c.KMSKeyARN[:strings.LastIndex(c.KMSKeyARN, "/")+1] + "00000000-0000-0000-0000-000000000000"
			if t == TargetAccess {
				out = append(out, resource{"another key", other, keyRes})
			}
		}
	case TargetTrust:
		out = append(out, resource{"the reader role", c.ReaderRoleARN(), roleRes})
	}
	return out
}

type witness struct{ pattern, value string }

var accountDigits = regexp.MustCompile(`[0-9]{12}`)

// patternWitnesses returns a value matching each Resource pattern with the
// given prefix, so grants on unexpected patterns get probed.
func patternWitnesses(docs []*policy.Document, prefix string) []witness {
	var out []witness
	seen := map[string]bool{}
	shapes := map[string]int{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			for _, r := range append(append([]string{}, s.Resource...), s.NotResource...) {
				if !strings.HasPrefix(r, prefix) || seen[r] || strings.Contains(r, "${") {
					continue
				}
				seen[r] = true
				// Patterns that differ only in an account id are alike; a
				// few of each shape stand for the rest.
				shape := accountDigits.ReplaceAllString(r, "#")
				if shapes[shape]++; shapes[shape] > 2 {
					continue
				}
				out = append(out, witness{r, instantiate(r)})
			}
		}
	}
	return out
}

// instantiate turns a glob into one concrete string it matches.
func instantiate(glob string) string {
	return strings.NewReplacer("*", "probe", "?", "x").Replace(glob)
}

// actionsFor lists the probed actions for a resource type: the catalog,
// plus every literal action the policies name for that service.
func actionsFor(typ resourceType, docs []*policy.Document) []string {
	set := map[string]bool{}
	for _, a := range catalog[typ] {
		set[a] = true
	}
	service := strings.SplitN(catalog[typ][0], ":", 2)[0] + ":"
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
				if strings.HasPrefix(strings.ToLower(a), service) && !strings.ContainsAny(a, "*?") && sameType(typ, a) {
					set[a] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// sameType keeps S3 object actions on objects and bucket actions on buckets.
func sameType(typ resourceType, action string) bool {
	a := strings.ToLower(action)
	isObject := strings.Contains(a, "object") || strings.HasSuffix(a, "multipartupload")
	switch typ {
	case objectRes:
		return isObject
	case bucketRes:
		return !isObject
	}
	return true
}

// keyWitnesses lists, for every condition key of the policies, the values
// worth trying: each literal (wildcards instantiated), a fresh value, and
// absence (an empty list). Keys are lower-cased, as the evaluator treats
// them case-insensitively; the second result holds the pairs of keys that
// appear in one statement, which are varied together.
func keyWitnesses(c *config.Config, docs []*policy.Document) (map[string][][]string, map[[2]string]bool) {
	values := map[string]map[string]bool{}
	// The keys the intended-access model reads are varied even when the
	// policy never mentions them: a policy that forgets a condition must
	// still meet requests without it.
	for k, vs := range modelKeys(c) {
		values[k] = map[string]bool{}
		for _, v := range vs {
			values[k][v] = true
		}
	}
	pairs := map[[2]string]bool{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			var keys []string
			for _, cnd := range s.Condition {
				k := strings.ToLower(cnd.Key)
				if values[k] == nil {
					values[k] = map[string]bool{}
				}
				for _, v := range cnd.Values {
					if !strings.Contains(v, "${") {
						values[k][instantiate(v)] = true
					}
				}
				keys = append(keys, k)
			}
			for i := range keys {
				for j := i + 1; j < len(keys); j++ {
					a, b := keys[i], keys[j]
					if a > b {
						a, b = b, a
					}
					if a != b {
						pairs[[2]string{a, b}] = true
					}
				}
			}
		}
	}
	out := map[string][][]string{}
	for k, vs := range values {
		if principalBound(k) {
			continue
		}
		if k == "aws:securetransport" {
			// Always present and always a boolean: TLS or not.
			out[k] = [][]string{{"true"}, {"false"}}
			continue
		}
		list := make([]string, 0, len(vs))
		for v := range vs {
			list = append(list, v)
		}
		sort.Strings(list)
		list = representatives(list)
		var ws [][]string
		for _, v := range list {
			ws = append(ws, []string{v})
		}
		// An empty list overrides a derived key: the key is absent.
		ws = append(ws, []string{"trailwarden-probe"}, []string{})
		if multivalued[k] {
			ws = append(ws, append(append([]string{}, list...), "trailwarden-probe"))
		}
		out[k] = ws
	}
	return out, pairs
}

// multivalued keys get the empty list and a mixed list as extra witnesses.
var multivalued = map[string]bool{
	"aws:calledvia": true, "aws:principalorgpaths": true, "aws:sourceorgpaths": true,
	"aws:tagkeys": true, "kms:encryptioncontextkeys": true,
}

// principalBound keys are derived from the caller and cannot be chosen by
// it; the probes vary the caller instead (another account, another
// organization, anonymous).
func principalBound(k string) bool {
	switch k {
	case "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principaltype", "aws:userid",
		"aws:username", "aws:principalisawsservice", "aws:principalservicename", "aws:principalorgpaths", "kms:calleraccount":
		return true
	}
	return strings.HasPrefix(k, "aws:principaltag/")
}

// modelKeys are the condition keys the intended-access model decides on,
// with the values that matter to it.
func modelKeys(c *config.Config) map[string][]string {
	out := map[string][]string{
		"aws:calledvia":   {"athena.amazonaws.com"},
		"s3:x-amz-acl":    {"bucket-owner-full-control", "public-read"},
		"aws:sourcearn":   {c.TrailARN(foreignAccount)},
		"s3:prefix":       {c.LogRoot() + "AWSLogs/", "other/"},
		"kms:viaservice":  {"s3." + c.EffectiveBucketRegion() + ".amazonaws.com"},
		"sts:externalid":  {"trailwarden-probe"},
		"aws:sourceorgid": {foreignOrg},
		"kms:encryptioncontext:aws:cloudtrail:arn": {c.TrailARN(foreignAccount)},
	}
	for _, o := range representatives(c.TrailOwners()) {
		out["aws:sourcearn"] = append(out["aws:sourcearn"], c.TrailARN(o))
	}
	if c.OrganizationID != "" {
		out["aws:sourceorgid"] = append(out["aws:sourceorgid"], c.OrganizationID)
	}
	if c.Readers.ExternalID != "" {
		out["sts:externalid"] = append(out["sts:externalid"], c.Readers.ExternalID)
	}
	return out
}
