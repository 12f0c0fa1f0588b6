package demo

import (
	"strings"
	"time"
)

// PipelineEvent is an event the demo plants at a known time, so detections
// and queries can be checked against ground truth. Rule names the built-in
// detection rule (its Sigma name) the event must fire; a look-alike names
// the rule it resembles and must not fire.
type PipelineEvent struct {
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Time      time.Time `json:"time"`
	EventName string    `json:"event_name"`
	EventID   string    `json:"event_id"`
	Rule      string    `json:"rule"`
}

// Who makes a planted call: the management account (trails), the log
// archive (bucket, key, reader role) or a member account (the last one).
const (
	inManagement = iota
	inLogArchive
	inMember
)

// Kinds of plants.
const (
	plantPipeline  = "pipeline"   // fires a pipeline-tampering rule
	plantThreat    = "threat"     // fires an identity-threat rule
	plantLookAlike = "look-alike" // resembles a pipeline rule's trigger and must not fire
)

// plant is one planted call. A burst plants count copies, seconds apart
// (a correlation needs many events).
type plant struct {
	kind, rule   string
	where        int
	source, name string
	count        int
	make         func(o *Org, g *gen, acct string, at time.Time) Record
}

// otherTrail, otherBucket and otherKey are the look-alikes' targets: the
// same calls on something that is not the pipeline.
const (
	otherTrail  = "app-team-trail"
	otherBucket = "app-assets"
)

func otherKeyARN(o *Org) string {
	return "arn:aws:kms:" + o.HomeRegion + ":" + o.LogArchive + ":key/0a0b0c0d-1e2f-4a5b-8c7d-9e8f7a6b5c4d"
}

// keyID is the key id part of a KMS key ARN.
func keyID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// readerRoleName is the reader role the demo config names (the default).
const readerRoleName = "trailwarden-log-reader"

var plants []plant

func p(kind, rule string, where int, source, name string, params func(o *Org) map[string]any) plant {
	return plant{kind: kind, rule: rule, where: where, source: source, name: name, count: 1,
		make: func(o *Org, g *gen, acct string, at time.Time) Record {
			id := g.assumed(acct, "Admin", g.pick("mallory", "dave"), true, at)
			return g.record(acct, o.HomeRegion, at, id, api{source: source, name: name, params: params(o)})
		}}
}

func init() {
	const ct, s3, kms, iam = "cloudtrail.amazonaws.com", "s3.amazonaws.com", "kms.amazonaws.com", "iam.amazonaws.com"
	trail := func(field string, more map[string]any) func(o *Org) map[string]any {
		return func(o *Org) map[string]any {
			m := map[string]any{field: o.TrailARN()}
			for k, v := range more {
				m[k] = v
			}
			return m
		}
	}
	bucket := func(more map[string]any) func(o *Org) map[string]any {
		return func(o *Org) map[string]any {
			m := map[string]any{"bucketName": o.Bucket, "Host": o.Bucket + ".s3." + o.HomeRegion + ".amazonaws.com"}
			for k, v := range more {
				m[k] = v
			}
			return m
		}
	}
	key := func(more map[string]any) func(o *Org) map[string]any {
		return func(o *Org) map[string]any {
			m := map[string]any{"keyId": o.KeyARN}
			for k, v := range more {
				m[k] = v
			}
			return m
		}
	}
	role := func(more map[string]any) func(o *Org) map[string]any {
		return func(_ *Org) map[string]any {
			m := map[string]any{"roleName": readerRoleName}
			for k, v := range more {
				m[k] = v
			}
			return m
		}
	}
	plants = []plant{
		p(plantPipeline, "tw_trail_stop_logging", inManagement, ct, "StopLogging", trail("name", nil)),
		p(plantPipeline, "tw_trail_deleted", inManagement, ct, "DeleteTrail", func(o *Org) map[string]any { return map[string]any{"name": o.Trail} }),
		p(plantPipeline, "tw_trail_destination_changed", inManagement, ct, "UpdateTrail", trail("name", map[string]any{"s3BucketName": "exfil-bucket-9f3a"})),
		p(plantPipeline, "tw_trail_destination_changed", inManagement, ct, "UpdateTrail", trail("name", map[string]any{"enableLogFileValidation": false})),
		p(plantPipeline, "tw_trail_event_selectors", inManagement, ct, "PutEventSelectors", trail("trailName", map[string]any{
			"eventSelectors": []any{map[string]any{"readWriteType": "WriteOnly", "includeManagementEvents": true}}})),
		p(plantPipeline, "tw_trail_insight_selectors", inManagement, ct, "PutInsightSelectors", trail("trailName", map[string]any{"insightSelectors": []any{}})),
		p(plantPipeline, "tw_bucket_policy", inLogArchive, s3, "PutBucketPolicy", bucket(map[string]any{"bucketPolicy": map[string]any{"Version": "2012-10-17"}})),
		p(plantPipeline, "tw_bucket_acl", inLogArchive, s3, "PutBucketAcl", bucket(map[string]any{"acl": ""})),
		p(plantPipeline, "tw_bucket_lifecycle", inLogArchive, s3, "PutBucketLifecycle", bucket(map[string]any{
			"LifecycleConfiguration": map[string]any{"Rule": map[string]any{"Expiration": map[string]any{"Days": 1}}}})),
		p(plantPipeline, "tw_bucket_versioning", inLogArchive, s3, "PutBucketVersioning", bucket(map[string]any{
			"VersioningConfiguration": map[string]any{"Status": "Suspended"}})),
		p(plantPipeline, "tw_bucket_encryption", inLogArchive, s3, "DeleteBucketEncryption", bucket(map[string]any{"encryption": ""})),
		p(plantPipeline, "tw_bucket_public_access_block", inLogArchive, s3, "DeleteBucketPublicAccessBlock", bucket(map[string]any{"publicAccessBlock": ""})),
		p(plantPipeline, "tw_bucket_ownership", inLogArchive, s3, "PutBucketOwnershipControls", bucket(map[string]any{
			"OwnershipControls": map[string]any{"Rule": map[string]any{"ObjectOwnership": "ObjectWriter"}}})),
		p(plantPipeline, "tw_bucket_logging", inLogArchive, s3, "PutBucketLogging", bucket(map[string]any{"BucketLoggingStatus": map[string]any{}})),
		p(plantPipeline, "tw_bucket_replication", inLogArchive, s3, "PutBucketReplication", bucket(map[string]any{"replication": ""})),
		p(plantPipeline, "tw_bucket_object_lock", inLogArchive, s3, "PutObjectLockConfiguration", bucket(map[string]any{"objectLock": ""})),
		p(plantPipeline, "tw_bucket_deleted", inLogArchive, s3, "DeleteBucket", bucket(nil)),
		p(plantPipeline, "tw_log_objects_deleted", inLogArchive, s3, "DeleteObject", func(o *Org) map[string]any {
			return map[string]any{"bucketName": o.Bucket, "key": o.logRoot() + o.ID + "/" + o.Management + "/CloudTrail/" + o.HomeRegion + "/2026/11/20/x.json.gz"}
		}),
		p(plantPipeline, "tw_key_disabled", inLogArchive, kms, "DisableKey", key(nil)),
		p(plantPipeline, "tw_key_deletion_scheduled", inLogArchive, kms, "ScheduleKeyDeletion", key(map[string]any{"pendingWindowInDays": 7})),
		p(plantPipeline, "tw_key_policy", inLogArchive, kms, "PutKeyPolicy", func(o *Org) map[string]any {
			return map[string]any{"keyId": keyID(o.KeyARN), "policyName": "default", "policy": "{}"}
		}),
		p(plantPipeline, "tw_key_grant", inLogArchive, kms, "CreateGrant", key(map[string]any{
			"granteePrincipal": "arn:aws:iam::999999999999:root", "operations": []any{"Decrypt"}})),
		p(plantPipeline, "tw_key_rotation_disabled", inLogArchive, kms, "DisableKeyRotation", key(nil)),
		p(plantPipeline, "tw_reader_role_trust", inLogArchive, iam, "UpdateAssumeRolePolicy", role(map[string]any{"policyDocument": "{}"})),
		p(plantPipeline, "tw_reader_role_permissions", inLogArchive, iam, "PutRolePolicy", role(map[string]any{"policyName": "extra", "policyDocument": "{}"})),
		p(plantPipeline, "tw_org_account_left", inMember, "organizations.amazonaws.com", "LeaveOrganization", func(*Org) map[string]any { return nil }),

		// Look-alikes: the same calls on other trails, buckets, keys and roles.
		p(plantLookAlike, "tw_trail_stop_logging", inManagement, ct, "StopLogging", func(o *Org) map[string]any {
			return map[string]any{"name": "arn:aws:cloudtrail:" + o.HomeRegion + ":" + o.Management + ":trail/" + otherTrail}
		}),
		p(plantLookAlike, "tw_trail_destination_changed", inManagement, ct, "UpdateTrail", func(o *Org) map[string]any {
			// The central trail re-pointed at its own bucket and key: no change.
			return map[string]any{"name": o.TrailARN(), "s3BucketName": o.Bucket, "kmsKeyId": o.KeyARN}
		}),
		p(plantLookAlike, "tw_trail_event_selectors", inManagement, ct, "PutEventSelectors", func(*Org) map[string]any {
			return map[string]any{"trailName": otherTrail, "eventSelectors": []any{map[string]any{"readWriteType": "WriteOnly"}}}
		}),
		p(plantLookAlike, "tw_bucket_policy", inLogArchive, s3, "PutBucketPolicy", func(*Org) map[string]any {
			return map[string]any{"bucketName": otherBucket, "bucketPolicy": map[string]any{"Version": "2012-10-17"}}
		}),
		p(plantLookAlike, "tw_bucket_encryption", inLogArchive, s3, "DeleteBucketEncryption", func(o *Org) map[string]any {
			return map[string]any{"bucketName": o.Bucket + "-access-logs"}
		}),
		p(plantLookAlike, "tw_log_objects_deleted", inLogArchive, s3, "DeleteObject", func(o *Org) map[string]any {
			return map[string]any{"bucketName": o.Bucket, "key": "athena-results/old-query.csv"}
		}),
		p(plantLookAlike, "tw_key_disabled", inLogArchive, kms, "DisableKey", func(o *Org) map[string]any { return map[string]any{"keyId": otherKeyARN(o)} }),
		p(plantLookAlike, "tw_key_deletion_scheduled", inLogArchive, kms, "ScheduleKeyDeletion", func(o *Org) map[string]any {
			return map[string]any{"keyId": keyID(otherKeyARN(o)), "pendingWindowInDays": 30}
		}),
		p(plantLookAlike, "tw_key_policy", inLogArchive, kms, "PutKeyPolicy", func(o *Org) map[string]any {
			return map[string]any{"keyId": otherKeyARN(o), "policyName": "default", "policy": "{}"}
		}),
		p(plantLookAlike, "tw_reader_role_trust", inLogArchive, iam, "UpdateAssumeRolePolicy", func(*Org) map[string]any {
			return map[string]any{"roleName": "app-deployer", "policyDocument": "{}"}
		}),

		// Identity threats.
		{kind: plantThreat, rule: "tw_root_use", where: inMember, source: iam, name: "GetAccountSummary", count: 1,
			make: func(o *Org, g *gen, acct string, at time.Time) Record {
				return g.record(acct, o.HomeRegion, at, root(acct), api{source: "iam.amazonaws.com", name: "GetAccountSummary", readOnly: true})
			}},
		{kind: plantThreat, rule: "tw_console_login_without_mfa", where: inMember, source: "signin.amazonaws.com", name: "ConsoleLogin", count: 1,
			make: func(o *Org, g *gen, acct string, at time.Time) Record {
				id := g.user(acct)
				id.AccessKeyID = ""
				return signIn(g, o, acct, at, id, "No", "Success", g.ip())
			}},
		{kind: plantThreat, rule: "tw_root_access_key_created", where: inMember, source: iam, name: "CreateAccessKey", count: 1,
			make: func(o *Org, g *gen, acct string, at time.Time) Record {
				return g.record(acct, o.HomeRegion, at, root(acct), api{source: "iam.amazonaws.com", name: "CreateAccessKey",
					response: map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIA" + g.upper(16), "status": "Active"}}})
			}},
		p(plantThreat, "tw_admin_policy_attached", inMember, iam, "AttachUserPolicy", func(*Org) map[string]any {
			return map[string]any{"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
		}),
		p(plantThreat, "tw_iam_privilege_escalation", inMember, iam, "CreatePolicyVersion", func(*Org) map[string]any {
			return map[string]any{"policyArn": "arn:aws:iam::" + "123456789012" + ":policy/app", "policyDocument": "{}", "setAsDefault": true}
		}),
		p(plantThreat, "tw_guardduty_disabled", inMember, "guardduty.amazonaws.com", "DeleteDetector", func(*Org) map[string]any {
			return map[string]any{"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}
		}),
		p(plantThreat, "tw_securityhub_disabled", inMember, "securityhub.amazonaws.com", "DisableSecurityHub", func(*Org) map[string]any { return nil }),
		p(plantThreat, "tw_config_disabled", inMember, "config.amazonaws.com", "StopConfigurationRecorder", func(*Org) map[string]any {
			return map[string]any{"configurationRecorderName": "default"}
		}),
		{kind: plantThreat, rule: "tw_console_login_failures_burst", where: inMember, source: "signin.amazonaws.com", name: "ConsoleLogin", count: 25,
			make: func(o *Org, g *gen, acct string, at time.Time) Record {
				id := Identity{Type: "IAMUser", AccountID: acct, PrincipalID: acct, UserName: "HIDDEN_DUE_TO_SECURITY_REASONS"}
				return signIn(g, o, acct, at, id, "No", "Failure", "203.0.113.66")
			}},
		{kind: plantThreat, rule: "tw_access_denied_burst", where: inMember, source: "iam.amazonaws.com", name: "ListUsers", count: 25,
			make: func(o *Org, g *gen, acct string, at time.Time) Record {
				id := Identity{Type: "IAMUser", PrincipalID: "AIDAEXAMPLESTOLENKEY1", ARN: "arn:aws:iam::" + acct + ":user/stolen-ci",
					AccountID: acct, AccessKeyID: "AKIAEXAMPLESTOLEN001", UserName: "stolen-ci"}
				a := readCalls[g.r.IntN(len(readCalls))]
				rec := g.record(acct, o.HomeRegion, at, id, a)
				rec.ErrorCode = "AccessDenied"
				rec.ErrorMessage = "User: " + id.ARN + " is not authorized to perform this action"
				rec.SourceIPAddress = "198.51.100.23"
				return rec
			}},
	}
}

// signIn is a console sign-in record.
func signIn(g *gen, o *Org, acct string, at time.Time, id Identity, mfa, result, ip string) Record {
	rec := g.record(acct, o.HomeRegion, at, id, api{source: "signin.amazonaws.com", name: "ConsoleLogin"})
	rec.EventType = "AwsConsoleSignIn"
	rec.ReadOnly = ptr(false)
	rec.RequestParameters = nil
	rec.SourceIPAddress = ip
	rec.AdditionalEventData = map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa}
	rec.ResponseElements = map[string]any{"ConsoleLogin": result}
	if result == "Failure" {
		rec.ErrorMessage = "Failed authentication"
	}
	return rec
}

// account is the account a plant is made in.
func (o *Org) plantAccount(where int) string {
	switch where {
	case inManagement:
		return o.Management
	case inLogArchive:
		return o.LogArchive
	}
	return o.Accounts[len(o.Accounts)-1]
}

// plantEvents builds plant i's records at time at (a burst's records are
// ten seconds apart) and what the manifest says of them.
func (g *gen) plantEvents(i int, at time.Time) ([]Record, []PipelineEvent) {
	pl := plants[i]
	acct := g.org.plantAccount(pl.where)
	var recs []Record
	var evs []PipelineEvent
	for k := 0; k < pl.count; k++ {
		t := at.Add(time.Duration(k) * 10 * time.Second)
		rec := pl.make(g.org, g, acct, t)
		recs = append(recs, rec)
		evs = append(evs, PipelineEvent{Account: acct, Region: g.org.HomeRegion, Time: t, EventName: rec.EventName, EventID: rec.EventID, Rule: pl.rule})
	}
	return recs, evs
}
