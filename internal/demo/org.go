package demo

import (
	"fmt"
	"math/rand/v2"
)

// Org is the synthetic organization: its accounts and trail.
type Org struct {
	ID         string   `json:"organization_id"`
	Management string   `json:"management_account"`
	LogArchive string   `json:"log_archive_account"`
	Accounts   []string `json:"accounts"` // every account, management and log archive first
	Bucket     string   `json:"bucket"`
	Prefix     string   `json:"prefix,omitempty"`
	Trail      string   `json:"trail"`
	HomeRegion string   `json:"home_region"`
	Regions    []string `json:"regions"`
	KeyARN     string   `json:"kms_key_arn"`
}

// NewOrg lays out n accounts: 111111111111 is the management account,
// 222222222222 the log archive; the rest are drawn from the seed.
func NewOrg(seed uint64, n int, regions []string, bucket, prefix, trail string) *Org {
	r := rand.New(rand.NewPCG(seed, 0x6f7267))
	o := &Org{ID: "o-a1b2c3d4e5", Management: "111111111111", LogArchive: "222222222222",
		Bucket: bucket, Prefix: prefix, Trail: trail, HomeRegion: regions[0], Regions: regions}
	o.Accounts = []string{o.Management, o.LogArchive}
	seen := map[string]bool{o.Management: true, o.LogArchive: true}
	for len(o.Accounts) < n {
		a := fmt.Sprintf("%012d", 300000000000+r.Int64N(600000000000))
		if !seen[a] {
			seen[a] = true
			o.Accounts = append(o.Accounts, a)
		}
	}
	o.Accounts = o.Accounts[:n]
	o.KeyARN = fmt.Sprintf("arn:aws:kms:%s:%s:key/5f1e1c1a-7d2b-4c3e-9a8b-1c2d3e4f5a6b", o.HomeRegion, o.LogArchive)
	return o
}

// TrailARN is the organization trail's ARN.
func (o *Org) TrailARN() string {
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", o.HomeRegion, o.Management, o.Trail)
}

// BucketARN is the central bucket's ARN.
func (o *Org) BucketARN() string { return "arn:aws:s3:::" + o.Bucket }
