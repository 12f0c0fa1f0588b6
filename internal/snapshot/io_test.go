package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Snapshot {
	days := int32(600)
	when := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return &Snapshot{
		Version: SchemaVersion, TakenAt: when, Partition: "aws",
		Organization: &Organization{ID: "o-a1b2c3d4e5", ManagementAccount: "111111111111", FeatureSet: "ALL",
			Accounts: []OrgAccount{{ID: "012345678901", Status: "ACTIVE", Path: []string{"r-ab12"}}},
			Policies: []OrgPolicy{{ID: "p-FullAWSAccess", Type: PolicySCP, Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, Targets: []string{"r-ab12"}, AWSManaged: true}}},
		Accounts: []Account{{ID: "012345678901", Regions: []string{"us-east-1"}, Trails: []Trail{{
			ARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", Name: "org-trail", HomeRegion: "us-east-1",
			S3BucketName: "acme-org-cloudtrail", IsMultiRegion: true, IsOrganization: true,
			Status:         &TrailStatus{IsLogging: true, LatestDeliveryTime: &when},
			EventSelectors: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}},
		}}}},
		Bucket: &Bucket{Name: "acme-org-cloudtrail", Account: "222222222222", Region: "us-east-1", Exists: true,
			Lifecycle: []LifecycleRule{{Status: "Enabled", ExpirationDays: &days}}},
		Keys: []Key{
			{ARN: "arn:aws:kms:us-east-1:222222222222:key/1111", Account: "222222222222", Region: "us-east-1", State: "Enabled", RotationEnabled: true},
			{ARN: "arn:aws:kms:us-east-1:222222222222:key/2222", Refs: []string{"alias/logs-default"}, Account: "222222222222", Region: "us-east-1", State: "Enabled"},
		},
		Errors: []CallError{{Account: "012345678901", Service: "iam", Operation: "GetRole", Code: "AccessDenied", Message: "no"}},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap.json")
	want := sample()
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	// It holds the pipeline's policies: the owner's alone.
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file mode %v, %v; want 0600", st.Mode(), err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the snapshot:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"not json", "{", "is it a trailwarden snapshot"},
		{"no version", `{"accounts":[]}`, `no "version" field`},
		{"newer", `{"version":99}`, "newer than this trailwarden reads"},
		{"zero", `{"version":0}`, "not valid"},
		{"unknown field", `{"version":1,"acounts":[]}`, `unknown field "acounts"`},
		{"wrong type", "{\"version\":1,\n\"accounts\":\"x\"}", "line 2 column"},
		{"v2 has no single key", `{"version":2,"accounts":[],"key":{"arn":"k"}}`, `unknown field "key"`},
		{"v1 has no key list", `{"version":1,"accounts":[],"keys":[]}`, `unknown field "keys"`},
		{"trailing", good.String() + "{}", "after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in), "s.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "s.json") {
				t.Fatalf("error %v does not name the file", err)
			}
		})
	}
}

func TestCheckTakenFor(t *testing.T) {
	s := sample()
	tests := []struct {
		bucket, org, want string
	}{
		{"acme-org-cloudtrail", "o-a1b2c3d4e5", ""},
		{"acme-org-cloudtrail", "", ""},
		{"other-bucket", "o-a1b2c3d4e5", "the snapshot is of bucket acme-org-cloudtrail, the config's bucket is other-bucket"},
		{"acme-org-cloudtrail", "o-zzzzzzzzzz", "the snapshot is of organization o-a1b2c3d4e5, the config's is o-zzzzzzzzzz"},
	}
	for _, tt := range tests {
		err := s.CheckTakenFor(tt.bucket, tt.org)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckTakenFor(%q, %q) = %v, want %q", tt.bucket, tt.org, err, tt.want)
		}
	}
}

// TestDecode_Version1KeyBecomesTheList: a version-1 file, with its single
// "key", is still read, and its key is the one item of Keys.
func TestDecode_Version1KeyBecomesTheList(t *testing.T) {
	v1 := `{"version":1,"takenAt":"2026-11-24T10:00:00Z","partition":"aws","accounts":[],
"key":{"arn":"arn:aws:kms:us-east-1:222222222222:key/1111","account":"222222222222","region":"us-east-1","policy":"{}","state":"Enabled","multiRegion":false,"rotationEnabled":true}}`
	s, err := Decode(strings.NewReader(v1), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 1 || s.Keys[0].ARN != "arn:aws:kms:us-east-1:222222222222:key/1111" || !s.Keys[0].RotationEnabled || s.Keys[0].Policy != "{}" {
		t.Fatalf("keys %+v, want the version-1 key", s.Keys)
	}
	var out bytes.Buffer
	if err := Encode(&out, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"version": 3`) || !strings.Contains(out.String(), `"keys": [`) || strings.Contains(out.String(), `"key":`) {
		t.Fatalf("re-encoded version-1 snapshot is not version 3 with a key list:\n%s", out.String())
	}
	noKey, err := Decode(strings.NewReader(`{"version":1,"accounts":[]}`), "old.json")
	if err != nil || noKey.Keys != nil {
		t.Fatalf("version 1 without a key: %+v, %v", noKey, err)
	}
}

func TestKeyFor(t *testing.T) {
	s := sample()
	tests := []struct{ ref, want string }{
		{"arn:aws:kms:us-east-1:222222222222:key/1111", "arn:aws:kms:us-east-1:222222222222:key/1111"},
		{"1111", "arn:aws:kms:us-east-1:222222222222:key/1111"},
		{"alias/logs-default", "arn:aws:kms:us-east-1:222222222222:key/2222"},
		{"alias/other", ""},
		{"3333", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := ""
		if k := s.KeyFor(tt.ref); k != nil {
			got = k.ARN
		}
		if got != tt.want {
			t.Errorf("KeyFor(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// TestDecode_Version2CamelCaseKeys: a version 2 file (camelCase keys, as
// trailwarden wrote them before every JSON became snake_case) reads into
// the same snapshot as its version 3 form; tag names are data and stay as
// they were, and so do strings that hold camelCase JSON (policies).
func TestDecode_Version2CamelCaseKeys(t *testing.T) {
	v2 := `{"version":2,"takenAt":"2026-11-24T10:00:00Z","partition":"aws","accounts":[],
"bucket":{"name":"b","account":"222222222222","region":"us-east-1","policy":"{\"Statement\":[{\"Sid\":\"s\\\"q\"}]}",
 "encryption":[{"sseAlgorithm":"aws:kms","kmsMasterKeyId":"k","bucketKeyEnabled":true}],
 "publicAccessBlock":{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":false,"restrictPublicBuckets":true},
 "lifecycle":[{"id":"r","status":"Enabled","tags":{"keepMe":"x","someTag":"y"},"expirationDays":30}]},
"keys":[{"arn":"arn:aws:kms:us-east-1:222222222222:key/1111","account":"222222222222","region":"us-east-1","policy":"{}","state":"Enabled","multiRegion":false,"rotationEnabled":true}]}`
	s, err := Decode(strings.NewReader(v2), "v2.json")
	if err != nil {
		t.Fatal(err)
	}
	b := s.Bucket
	if b == nil || b.Policy != `{"Statement":[{"Sid":"s\"q"}]}` || len(b.Encryption) != 1 || b.Encryption[0].KMSMasterKeyID != "k" ||
		!b.Encryption[0].BucketKeyEnabled || b.PublicAccessBlock == nil || !b.PublicAccessBlock.RestrictPublicBuckets ||
		len(b.Lifecycle) != 1 || b.Lifecycle[0].Tags["keepMe"] != "x" || *b.Lifecycle[0].ExpirationDays != 30 ||
		len(s.Keys) != 1 || !s.Keys[0].RotationEnabled {
		t.Fatalf("decoded %+v", s)
	}
	var out bytes.Buffer
	if err := Encode(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version": 3`, `"taken_at"`, `"kms_master_key_id": "k"`, `"keepMe": "x"`, `"rotation_enabled": true`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("re-encoded snapshot lacks %s:\n%s", want, out.String())
		}
	}
}
