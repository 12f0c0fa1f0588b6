package proof

import (
	"path"
	"strings"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
)

// model is the intended access of a config: the predicate every allowed
// request is compared with. It is written from the config alone, never
// from the policies, so a wrong policy cannot make itself look right.
type model struct {
	c     *config.Config
	scope string
}

// ctxView reads a request context case-insensitively.
type ctxView map[string][]string

func view(ctx map[string][]string) ctxView {
	out := make(ctxView, len(ctx))
	for k, v := range ctx {
		out[strings.ToLower(k)] = v
	}
	return out
}

func (v ctxView) is(key, want string) bool {
	vals := v[strings.ToLower(key)]
	return len(vals) == 1 && vals[0] == want
}

func (v ctxView) contains(key, want string) bool {
	for _, x := range v[strings.ToLower(key)] {
		if x == want {
			return true
		}
	}
	return false
}

func (v ctxView) one(key string) string {
	vals := v[strings.ToLower(key)]
	if len(vals) != 1 {
		return ""
	}
	return vals[0]
}

// intended reports whether the config means p to be able to do action on
// res with context ctx, as far as the policy of target is concerned.
func (m model) intended(t Target, p probe, action string, res resource, ctx ctxView) bool {
	switch t {
	case TargetBucket:
		if !ctx.is("aws:SecureTransport", "true") {
			return false
		}
		switch p.kind {
		case probeCloudTrail:
			return m.delivery(action, res, ctx)
		case probeReader:
			return m.readerBucket(p, action, res, ctx)
		}
	case TargetKey:
		key, err := awsid.KeyARN(m.c.KMSKeyARN)
		if err != nil || res.arn != m.c.KMSKeyARN {
			return false
		}
		if p.principal.Account == key.Account && p.kind != probeCloudTrail {
			// The key account's own principals are governed by its IAM
			// policies through the account principal (key administration).
			return true
		}
		switch p.kind {
		case probeCloudTrail:
			return m.encrypt(action, ctx)
		case probeReader:
			return m.readerDecrypt(p, action, ctx)
		}
	case TargetTrust:
		return p.kind == probeReader && strings.EqualFold(action, "sts:AssumeRole") && res.arn == m.c.ReaderRoleARN() &&
			m.readerIdentity(p, ctx) && (m.c.Readers.ExternalID == "" || ctx.is("sts:ExternalId", m.c.Readers.ExternalID))
	case TargetAccess:
		if p.kind != probeReaderRole || !m.athenaOK(ctx, false) {
			return false
		}
		switch {
		case res.arn == m.c.BucketARN():
			return strings.EqualFold(action, "s3:GetBucketLocation") || m.listing(action, ctx)
		case res.typ == objectRes:
			return strings.EqualFold(action, "s3:GetObject") && m.underLogs(res)
		case res.arn == m.c.KMSKeyARN:
			return strings.EqualFold(action, "kms:Decrypt") && ctx.is("kms:ViaService", m.viaS3())
		}
	}
	return false
}

func (m model) viaS3() string { return "s3." + m.c.EffectiveBucketRegion() + ".amazonaws.com" }

// athenaOK is true unless reads must come through Athena and this one
// does not. The accelerate statements always require Athena for reads.
func (m model) athenaOK(ctx ctxView, accelerateRead bool) bool {
	if !m.c.Readers.AthenaOnly && !accelerateRead {
		return true
	}
	return ctx.contains("aws:CalledVia", "athena.amazonaws.com")
}

func (m model) underLogs(res resource) bool {
	return strings.HasPrefix(res.arn, m.c.BucketARN()+"/"+m.c.LogRoot()+"AWSLogs/")
}

func (m model) listing(action string, ctx ctxView) bool {
	ok, _ := path.Match(m.c.LogRoot()+"AWSLogs/*", ctx.one("s3:prefix"))
	prefix := ctx.one("s3:prefix")
	return strings.EqualFold(action, "s3:ListBucket") && (ok || strings.HasPrefix(prefix, m.c.LogRoot()+"AWSLogs/"))
}

// readerIdentity is true for a configured reader: an exact role, or a role
// matching the pattern inside the organization. Under accelerate every
// reader grant is scoped to the organization.
func (m model) readerIdentity(p probe, ctx ctxView) bool {
	inOrg := m.c.OrganizationID != "" && ctx.is("aws:PrincipalOrgID", m.c.OrganizationID)
	if p.exactReader {
		return m.c.Profile != config.ProfileAccelerate || inOrg
	}
	return inOrg
}

func (m model) readerBucket(p probe, action string, res resource, ctx ctxView) bool {
	if !m.readerIdentity(p, ctx) {
		return false
	}
	accelerate := m.c.Profile == config.ProfileAccelerate
	if res.arn == m.c.BucketARN() {
		a := strings.ToLower(action)
		if accelerate {
			switch a {
			case "s3:getbucketlogging", "s3:getbucketobjectlockconfiguration", "s3:getlifecycleconfiguration", "s3:getencryptionconfiguration":
				return true
			}
			return m.athenaOK(ctx, true) && m.listing(action, ctx)
		}
		return m.athenaOK(ctx, false) && (a == "s3:getbucketlocation" || m.listing(action, ctx))
	}
	return res.typ == objectRes && m.underLogs(res) && strings.EqualFold(action, "s3:GetObject") && m.athenaOK(ctx, accelerate)
}

func (m model) readerDecrypt(p probe, action string, ctx ctxView) bool {
	if !m.readerIdentity(p, ctx) {
		return false
	}
	a := strings.ToLower(action)
	if m.c.Profile == config.ProfileAccelerate {
		return (a == "kms:decrypt" || a == "kms:describekey") && m.athenaOK(ctx, true)
	}
	return a == "kms:decrypt" && m.athenaOK(ctx, false) && ctx.is("kms:ViaService", m.viaS3()) &&
		ctx.one("kms:EncryptionContext:aws:cloudtrail:arn") != ""
}

// source reports whether a CloudTrail request comes from an intended trail,
// and which account's trail it is ("" under organization scoping).
func (m model) source(ctx ctxView) (owner string, ok bool) {
	if m.scope == config.ScopeOrganization {
		return "", ctx.is("aws:SourceOrgID", m.c.OrganizationID)
	}
	for _, o := range m.c.TrailOwners() {
		if ctx.is("aws:SourceArn", m.c.TrailARN(o)) {
			return o, true
		}
	}
	return "", false
}

func (m model) delivery(action string, res resource, ctx ctxView) bool {
	owner, ok := m.source(ctx)
	if !ok {
		return false
	}
	a := strings.ToLower(action)
	if res.arn == m.c.BucketARN() {
		return a == "s3:getbucketacl"
	}
	if a != "s3:putobject" || !ctx.is("s3:x-amz-acl", "bucket-owner-full-control") {
		return false
	}
	logs := m.c.BucketARN() + "/" + m.c.LogRoot() + "AWSLogs/"
	under := func(p string) bool { return strings.HasPrefix(res.arn, logs+p) }
	c := m.c
	if c.Trail.Organization {
		if under(c.ManagementAccount + "/") {
			return true
		}
		if len(c.SourceAccounts) == 0 || m.scope == config.ScopeOrganization {
			return under(c.OrganizationID + "/")
		}
		for _, a := range c.SourceAccounts {
			if under(c.OrganizationID + "/" + a + "/") {
				return true
			}
		}
		return false
	}
	switch m.scope {
	case config.ScopePerAccount:
		return under(owner + "/")
	case config.ScopeAccountList:
		for _, a := range c.SourceAccounts {
			if under(a + "/") {
				return true
			}
		}
	case config.ScopeOrganization:
		return under("")
	}
	return false
}

func (m model) encrypt(action string, ctx ctxView) bool {
	if _, ok := m.source(ctx); !ok {
		return false
	}
	a := strings.ToLower(action)
	if a == "kms:describekey" {
		return true
	}
	if !strings.HasPrefix(a, "kms:generatedatakey") {
		return false
	}
	trail := ctx.one("kms:EncryptionContext:aws:cloudtrail:arn")
	for _, o := range m.c.TrailOwners() {
		if ok, _ := path.Match("arn:"+m.c.Partition()+":cloudtrail:*:"+o+":trail/*", trail); ok {
			return true
		}
	}
	return false
}
