package detect

import (
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// The placeholders of the built-in pipeline rules, filled from the config.
const (
	PHTrails        = "trail_names"     // the trail's name and ARNs
	PHBuckets       = "log_buckets"     // the central bucket
	PHLogObjectKeys = "log_object_keys" // the keys CloudTrail writes (a wildcard under the log root)
	PHKMSKeys       = "kms_keys"        // the key's ARN and id
	PHReaderRoles   = "reader_roles"    // the reader role's name
	PHOrganization  = "organization_id" // the organization's id
)

// NoKey is the value of %kms_keys% for a config without a KMS key: it
// matches no key, so the key rules find nothing and a trail given any key
// counts as changed.
const NoKey = "(no KMS key in the config)"

// Placeholders are the values of the pipeline placeholders for a config;
// nil for no config. A placeholder the config has no value for is left
// out, so a rule that needs it is reported as not compiled with the name
// of the missing placeholder, rather than run against nothing.
func Placeholders(c *config.Config) sigma.Placeholders {
	if c == nil {
		return nil
	}
	ph := sigma.Placeholders{}
	if c.Trail.Name != "" {
		trails := []string{c.Trail.Name}
		owners := c.TrailOwners()
		for _, a := range owners {
			if a != "" {
				trails = append(trails, c.TrailARN(a))
			}
		}
		if !c.Trail.Organization {
			// Per-account trails: every account's trail of this name,
			// in the home region, whether or not source_accounts lists it.
			trails = append(trails, "arn:"+c.Partition()+":cloudtrail:"+c.HomeRegion+":*:trail/"+c.Trail.Name)
		}
		ph[PHTrails] = trails
	}
	if c.Bucket != "" {
		ph[PHBuckets] = []string{c.Bucket}
		ph[PHLogObjectKeys] = []string{c.LogRoot() + "AWSLogs/*"}
	}
	if c.KMSKeyARN != "" {
		keys := []string{c.KMSKeyARN}
		if i := strings.LastIndex(c.KMSKeyARN, ":key/"); i >= 0 {
			keys = append(keys, c.KMSKeyARN[i+len(":key/"):])
		}
		ph[PHKMSKeys] = keys
	} else {
		// SSE-S3: no key of the pipeline to tamper with, but a trail
		// given a key is still a change. No real key id contains spaces.
		ph[PHKMSKeys] = []string{NoKey}
	}
	if c.Readers.RoleName != "" {
		ph[PHReaderRoles] = []string{c.Readers.RoleName}
	}
	if c.OrganizationID != "" {
		ph[PHOrganization] = []string{c.OrganizationID}
	}
	return ph
}
