package awsfake

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Role is an IAM role in the typed state.
type Role struct {
	Name, Path, Description string
	TrustPolicy             string            // JSON text
	Inline                  map[string]string // policy name -> JSON text
	Attached                []string          // managed policy ARNs
	Boundary                string            // permissions boundary ARN
}

// Trail is a CloudTrail trail in the typed state. Selectors are raw JSON
// arrays in CloudTrail's wire shape ("" = none).
type Trail struct {
	Name, HomeRegion, S3BucketName, S3KeyPrefix, KMSKeyID string
	CloudWatchLogsLogGroupARN, CloudWatchLogsRoleARN      string
	IsMultiRegion, IsOrganization                         bool
	IncludeGlobalServiceEvents, LogFileValidation         bool
	Logging                                               bool
	EventSelectors, AdvancedEventSelectors, Insights      string
}

// state holds the resources apply changes. Reads of a resource present
// here are rendered from it; others fall through to the recordings.
type state struct {
	bucketPolicies map[string]string // bucket -> policy; "" = deleted
	keyPolicies    map[string]string // account/region/keyid -> policy
	roles          map[string]*Role  // account/name
	trails         map[string]*Trail // account/name
	trailAccounts  map[string]bool   // accounts whose trails live here
	assumed        map[string]string // account -> last role/session assumed
	bucketConfigs  map[string]string // bucket/noun -> Get document; "" = not configured
	bucketRegions  map[string]string // buckets created through the API -> region
}

func newState() state {
	return state{bucketPolicies: map[string]string{}, keyPolicies: map[string]string{}, roles: map[string]*Role{},
		trails: map[string]*Trail{}, trailAccounts: map[string]bool{}, assumed: map[string]string{}, bucketConfigs: map[string]string{}, bucketRegions: map[string]string{}}
}

// SetBucketPolicy makes bucket exist with policy ("" = no policy).
func (w *World) SetBucketPolicy(bucket, policy string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buckets[bucket] = true
	w.state.bucketPolicies[bucket] = policy
}

// BucketPolicy is bucket's current policy as the state holds it.
func (w *World) BucketPolicy(bucket string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.state.bucketPolicies[bucket]
	return p, ok && p != ""
}

// SetKeyPolicy sets the "default" policy of a KMS key.
func (w *World) SetKeyPolicy(account, region, keyID, policy string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.keyPolicies[account+"/"+region+"/"+keyID] = policy
}

// KeyPolicy is a key's current policy as the state holds it.
func (w *World) KeyPolicy(account, region, keyID string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.state.keyPolicies[account+"/"+region+"/"+keyID]
	return p, ok
}

// PutRole adds or replaces a role in account.
func (w *World) PutRole(account string, r Role) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.roles[account+"/"+r.Name] = cloneRole(&r)
}

// Role is a copy of a role in the state.
func (w *World) Role(account, name string) (Role, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.state.roles[account+"/"+name]
	if !ok {
		return Role{}, false
	}
	return *cloneRole(r), true
}

// PutTrail adds or replaces a trail in account; its account's trails are
// then all served from the state.
func (w *World) PutTrail(account string, t Trail) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := t
	w.state.trails[account+"/"+t.Name] = &c
	w.state.trailAccounts[account] = true
}

// Trail is a copy of a trail in the state.
func (w *World) Trail(account, name string) (Trail, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.state.trails[account+"/"+name]
	if !ok {
		return Trail{}, false
	}
	return *t, true
}

func cloneRole(r *Role) *Role {
	c := *r
	c.Inline = map[string]string{}
	for k, v := range r.Inline {
		c.Inline[k] = v
	}
	c.Attached = append([]string(nil), r.Attached...)
	if c.Path == "" {
		c.Path = "/"
	}
	return &c
}

// serve answers c from the typed state when it concerns a resource there.
func (s *state) serve(w *World, c *Call, reqID string) (Response, bool) {
	switch c.Service {
	case "s3":
		return s.s3(w, c, reqID)
	case "kms":
		return s.kms(c)
	case "iam":
		return s.iam(w, c, reqID)
	case "cloudtrail":
		return s.cloudtrail(w, c, reqID)
	}
	return Response{}, false
}

func (s *state) s3(w *World, c *Call, reqID string) (Response, bool) {
	if r, ok := s.bucketConfig(w, c, reqID); ok {
		return r, true
	}
	if r, ok := s.bucketLifecycle(w, c, reqID); ok {
		return r, true
	}
	b := c.Resource
	switch c.Operation {
	case "GetBucketPolicy":
		p, ok := s.bucketPolicies[b]
		if !ok {
			return Response{}, false
		}
		if p == "" {
			return errorResponse("s3", "NoSuchBucketPolicy", "The bucket policy does not exist", 0, reqID), true
		}
		return OK(p), true
	case "PutBucketPolicy", "DeleteBucketPolicy":
		if !w.buckets[b] {
			return errorResponse("s3", "NoSuchBucket", "The specified bucket does not exist", 0, reqID), true
		}
		if c.Operation == "PutBucketPolicy" {
			s.bucketPolicies[b] = c.Body
		} else {
			s.bucketPolicies[b] = ""
		}
		return Response{Status: 204}, true
	}
	return Response{}, false
}

func (s *state) kms(c *Call) (Response, bool) {
	k := c.Account + "/" + c.Region + "/" + c.Resource
	switch c.Operation {
	case "GetKeyPolicy":
		p, ok := s.keyPolicies[k]
		if !ok {
			return Response{}, false
		}
		return JSON(map[string]string{"Policy": p, "PolicyName": "default"}), true
	case "PutKeyPolicy":
		s.keyPolicies[k] = c.Params["Policy"]
		return OK("{}"), true
	}
	return Response{}, false
}

func (s *state) iam(w *World, c *Call, reqID string) (Response, bool) {
	name := c.Params["RoleName"]
	k := c.Account + "/" + name
	r, ok := s.roles[k]
	notFound := func() (Response, bool) {
		return errorResponse("iam", "NoSuchEntity", fmt.Sprintf("The role with name %s cannot be found.", name), 0, reqID), true
	}
	done := func() (Response, bool) { return OK(QueryResult("iam", c.Operation, "")), true }
	if c.Operation == "CreateRole" {
		if ok {
			return errorResponse("iam", "EntityAlreadyExists", fmt.Sprintf("Role with name %s already exists.", name), 0, reqID), true
		}
		r = &Role{Name: name, Path: nonEmpty(c.Params["Path"], "/"), Description: c.Params["Description"],
			TrustPolicy: c.Params["AssumeRolePolicyDocument"], Inline: map[string]string{}, Boundary: c.Params["PermissionsBoundary"]}
		s.roles[k] = r
		return OK(QueryResult("iam", "CreateRole", "<Role>"+s.roleXML(w, c.Account, r)+"</Role>")), true
	}
	if !ok {
		return Response{}, false
	}
	switch c.Operation {
	case "GetRole":
		return OK(QueryResult("iam", "GetRole", "<Role>"+s.roleXML(w, c.Account, r)+"</Role>")), true
	case "UpdateAssumeRolePolicy":
		r.TrustPolicy = c.Params["PolicyDocument"]
		return done()
	case "PutRolePolicy":
		r.Inline[c.Params["PolicyName"]] = c.Params["PolicyDocument"]
		return done()
	case "DeleteRolePolicy":
		if _, ok := r.Inline[c.Params["PolicyName"]]; !ok {
			return errorResponse("iam", "NoSuchEntity", fmt.Sprintf("The role policy with name %s cannot be found.", c.Params["PolicyName"]), 0, reqID), true
		}
		delete(r.Inline, c.Params["PolicyName"])
		return done()
	case "DeleteRole":
		if len(r.Inline) > 0 || len(r.Attached) > 0 {
			return errorResponse("iam", "DeleteConflict", "Cannot delete entity, must delete policies first.", 0, reqID), true
		}
		delete(s.roles, k)
		return done()
	case "GetRolePolicy":
		doc, ok := r.Inline[c.Params["PolicyName"]]
		if !ok {
			return notFound()
		}
		return OK(QueryResult("iam", "GetRolePolicy", fmt.Sprintf("<RoleName>%s</RoleName><PolicyName>%s</PolicyName><PolicyDocument>%s</PolicyDocument>",
			esc(name), esc(c.Params["PolicyName"]), iamEncode(doc)))), true
	case "ListRolePolicies":
		var b strings.Builder
		for _, n := range slices.Sorted(maps.Keys(r.Inline)) {
			fmt.Fprintf(&b, "<member>%s</member>", esc(n))
		}
		return OK(QueryResult("iam", "ListRolePolicies", "<IsTruncated>false</IsTruncated><PolicyNames>"+b.String()+"</PolicyNames>")), true
	case "ListAttachedRolePolicies":
		var b strings.Builder
		for _, a := range r.Attached {
			fmt.Fprintf(&b, "<member><PolicyName>%s</PolicyName><PolicyArn>%s</PolicyArn></member>", esc(lastAfter(a, "/")), esc(a))
		}
		return OK(QueryResult("iam", "ListAttachedRolePolicies", "<IsTruncated>false</IsTruncated><AttachedPolicies>"+b.String()+"</AttachedPolicies>")), true
	case "AttachRolePolicy":
		r.Attached = append(r.Attached, c.Params["PolicyArn"])
		return done()
	case "DetachRolePolicy":
		for i, a := range r.Attached {
			if a == c.Params["PolicyArn"] {
				r.Attached = append(r.Attached[:i], r.Attached[i+1:]...)
				return done()
			}
		}
		return notFound()
	}
	return Response{}, false
}

func (s *state) roleXML(w *World, account string, r *Role) string {
	x := fmt.Sprintf("<Path>%s</Path><RoleName>%s</RoleName><RoleId>AROAFAKE%s</RoleId><Arn>arn:%s:iam::%s:role%s%s</Arn><CreateDate>2026-01-02T03:04:05Z</CreateDate>"+
		"<AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>",
		esc(r.Path), esc(r.Name), account, w.Partition, account, esc(r.Path), esc(r.Name), iamEncode(r.TrustPolicy))
	if r.Description != "" {
		x += "<Description>" + esc(r.Description) + "</Description>"
	}
	if r.Boundary != "" {
		x += "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>" + esc(r.Boundary) + "</PermissionsBoundaryArn></PermissionsBoundary>"
	}
	return x
}

// IAMEncode URL-encodes a policy document the way IAM returns it
// (RFC 3986: spaces as %20, never +).
func IAMEncode(doc string) string { return iamEncode(doc) }

func iamEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
