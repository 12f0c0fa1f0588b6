package audit

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// decider answers requests against one resource policy with the snapshot's
// SCPs and RCPs.
type decider struct {
	e        *env
	resource *eval.Named
	kind     eval.ResourceKind
	resAcct  string
	// orgLayers adds SCPs of the caller's account and RCPs of the resource
	// account; probes of the resource policy alone leave it off.
	orgLayers bool
	// id names the resource policy in the evaluator cache.
	id string
}

// caller is a principal with the identity policies that speak for it.
type caller struct {
	p        eval.Principal
	identity []eval.Named
	boundary *eval.Named
	// id names the identity policies in the evaluator cache ("" for none).
	id string
}

// decide evaluates one request. The evaluator of each distinct policy set
// (resource policy, identity, SCP path, RCP path) is compiled once and
// reused: an organization of a thousand accounts in a few OUs compiles a
// few evaluators, not one per request.
func (d *decider) decide(c caller, action, resource string, ctx map[string][]string) (eval.Result, error) {
	var scps, rcps orgPath
	var err error
	if d.orgLayers {
		if c.p.Account != "" {
			if scps, err = d.e.orgLevels(c.p.Account, snapshot.PolicySCP); err != nil {
				return eval.Result{}, err
			}
		}
		if rcps, err = d.e.orgLevels(d.resAcct, snapshot.PolicyRCP); err != nil {
			return eval.Result{}, err
		}
	}
	mgmtPrin := d.orgLayers && c.p.Account != "" && d.e.s.IsManagementAccount(c.p.Account)
	mgmtRes := d.orgLayers && d.e.s.IsManagementAccount(d.resAcct)
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%t%t", d.id, c.id, scps.sig, rcps.sig, mgmtPrin, mgmtRes)
	ev, err := d.e.evals.Evaluator(key, func() (eval.Policies, error) {
		ps := eval.Policies{Identity: c.identity, Resource: d.resource, Boundary: c.boundary, ResourceKind: d.kind,
			SCPs: scps.levels, RCPs: rcps.levels, PrincipalIsManagementAccount: mgmtPrin, ResourceInManagementAccount: mgmtRes}
		if d.resource == nil {
			ps.Resource = &eval.Named{Name: "(no policy)", Doc: &policy.Document{Version: policy.Version2012}}
		}
		return ps, nil
	})
	if err != nil {
		return eval.Result{}, err
	}
	return ev.Evaluate(eval.Request{Principal: c.p, Action: action, Resource: resource, ResourceAccount: d.resAcct, Context: ctx}), nil
}

// orgPath is the SCP or RCP levels of one account, with a signature that is
// equal for accounts whose paths carry the same policies.
type orgPath struct {
	levels [][]eval.Named
	sig    string
}

// orgLevels turns the snapshot's SCP or RCP path of account into evaluator
// levels. A level where the snapshot recorded no SCP gets FullAWSAccess:
// AWS requires one SCP per level, so an empty level means the read missed
// it, not that everything is denied. AWS-managed RCPs are left to the
// evaluator, which adds RCPFullAWSAccess itself.
func (e *env) orgLevels(account, typ string) (orgPath, error) {
	ck := typ + "/" + account
	if p, ok := e.levels[ck]; ok {
		return p, nil
	}
	path := e.s.PolicyPath(account, typ)
	if path == nil {
		e.levels[ck] = orgPath{}
		return orgPath{}, nil
	}
	out := orgPath{levels: make([][]eval.Named, 0, len(path))}
	var sig strings.Builder
	for _, lvl := range path {
		var named []eval.Named
		sig.WriteByte('|')
		for _, p := range lvl.Policies {
			if typ == snapshot.PolicyRCP && p.AWSManaged {
				continue
			}
			pd, ok := e.orgDocs[p.ID]
			if !ok {
				pd.doc, pd.err = policy.Parse([]byte(p.Document))
				e.orgDocs[p.ID] = pd
			}
			if pd.err != nil {
				return orgPath{}, &policyError{what: orgPolicyKind(typ) + " " + policyLabel(p), err: pd.err}
			}
			named = append(named, eval.Named{Name: policyLabel(p), Doc: pd.doc})
			sig.WriteString(p.ID + ",")
		}
		if typ == snapshot.PolicySCP && len(named) == 0 {
			named = append(named, eval.Named{Name: "FullAWSAccess (none recorded at " + lvl.Target + ")", Doc: access.AllowAll()})
			sig.WriteString("(none)")
		}
		out.levels = append(out.levels, named)
	}
	out.sig = sig.String()
	e.levels[ck] = out
	return out, nil
}

func orgPolicyKind(typ string) string {
	if typ == snapshot.PolicyRCP {
		return "RCP"
	}
	return "SCP"
}

// policyError is a policy the audit cannot use, named as users know it.
type policyError struct {
	what string
	err  error
}

func (e *policyError) Error() string { return e.what + " " + plain(e.err) }
func (e *policyError) Unwrap() error { return e.err }

// plain renders an error about a policy in words a user acts on: where the
// policy is wrong and how, without the call chain that found it.
func plain(err error) string {
	var pe *policyError
	var ce *eval.CompileError
	var pa *policy.ParseError
	switch {
	case errors.As(err, &pe):
		return pe.Error()
	case errors.As(err, &ce):
		where := ""
		if ce.Statement >= 0 {
			where = fmt.Sprintf(" statement %d", ce.Statement)
			if ce.Sid != "" {
				where += " (" + ce.Sid + ")"
			}
		}
		if ce.Pos.Line > 0 {
			where += fmt.Sprintf(" at line %d, column %d", ce.Pos.Line, ce.Pos.Column)
		}
		return fmt.Sprintf("%s%s is not a valid policy: %v", ce.Policy, where, ce.Err)
	case errors.As(err, &pa):
		return "does not parse: " + pa.Error()
	}
	return err.Error()
}

// cannotDecide is the unknown finding of a request that could not be
// evaluated because a policy is not valid.
func cannotDecide(account, resource string, err error) Finding {
	return Finding{Status: Unknown, Account: account, Resource: resource,
		Message:     "cannot decide: " + plain(err),
		Remediation: "correct the policy named above (AWS refuses a policy that does not parse or compile), then take the snapshot again"}
}

func policyLabel(p snapshot.OrgPolicy) string {
	if p.Name != "" {
		return p.Name + " (" + p.ID + ")"
	}
	return p.ID
}

// roleCaller is a session of roleARN in the config's organization, with
// allow-all identity policies.
func (e *env) roleCaller(roleARN string, inOrg bool) (caller, error) {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	acct := keyAccount(roleARN)
	p, err := eval.ParsePrincipal(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/trailwarden-audit", e.partition(), acct, name))
	if err != nil {
		return caller{}, fmt.Errorf("role %s is not a role ARN: %w", roleARN, err)
	}
	if p, err = p.WithIssuer(roleARN); err != nil {
		return caller{}, fmt.Errorf("role %s is not a role ARN: %w", roleARN, err)
	}
	if inOrg {
		p.OrgID = e.orgID()
	}
	return caller{p: p, identity: []eval.Named{{Name: "assumed: the caller's own permissions allow", Doc: access.AllowAll()}}, id: "allow-all"}, nil
}

func (e *env) partition() string {
	if e.s.Partition != "" {
		return e.s.Partition
	}
	return e.c.Partition()
}

// decision renders one evaluated request for evidence.
func decision(who, action, resource string, ctx map[string][]string, r eval.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s", who, action, resource)
	if len(ctx) > 0 {
		keys := make([]string, 0, len(ctx))
		for k := range ctx {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+strings.Join(ctx[k], ","))
		}
		fmt.Fprintf(&b, " [%s]", strings.Join(kv, " "))
	}
	fmt.Fprintf(&b, ": %s", r.Decision)
	if r.BlockedBy != "" {
		fmt.Fprintf(&b, " by the %s layer", r.BlockedBy)
	}
	if ss := deciding(r); ss != "" {
		fmt.Fprintf(&b, " (%s)", ss)
	}
	for _, j := range r.Judgements {
		fmt.Fprintf(&b, "; rests on judgement call %s: %s, and AWS may decide %s", j.ID, j.Summary, j.Otherwise)
	}
	return b.String()
}

// deciding names the matched statements of the deciding layer (or of the
// resource policy when allowed).
func deciding(r eval.Result) string {
	var out []string
	for _, rs := range r.MatchedStatements() {
		if r.Decision == eval.Allowed && rs.Layer != eval.LayerResource {
			continue
		}
		if r.Decision != eval.Allowed && rs.Layer != r.BlockedBy {
			continue
		}
		if r.Decision == eval.ExplicitlyDenied && rs.Effect != policy.Deny {
			continue
		}
		name := fmt.Sprintf("statement %d", rs.Statement)
		if rs.Sid != "" {
			name = rs.Sid
		}
		out = append(out, fmt.Sprintf("%s %s %s", rs.Policy, rs.Effect, name))
	}
	return strings.Join(out, "; ")
}

// sampleLogKey is a realistic key CloudTrail writes for account.
func (e *env) sampleLogKey(account string) string {
	root := e.logRoot()
	if e.c.Trail.Organization && e.c.OrganizationID != "" {
		root += e.c.OrganizationID + "/"
	}
	r := e.c.HomeRegion
	return fmt.Sprintf("%s%s/CloudTrail/%s/2026/01/01/%s_CloudTrail_%s_20260101T0005Z_a1b2c3d4e5f6a7b8.json.gz", root, account, r, account, r)
}

// member is an organization account other than the log-archive and key
// accounts, to stand for the readers matched by the role pattern.
func (e *env) member() string {
	skip := map[string]bool{e.c.LogArchiveAccount: true, keyAccount(e.c.KMSKeyARN): true}
	if o := e.s.Organization; o != nil {
		for _, a := range o.Accounts {
			if !skip[a.ID] && a.ID != o.ManagementAccount {
				return a.ID
			}
		}
	}
	for _, a := range e.c.SourceAccounts {
		if !skip[a] {
			return a
		}
	}
	for _, a := range e.s.Accounts {
		if !skip[a.ID] {
			return a.ID
		}
	}
	return memberProbeAccount
}

// memberProbeAccount stands for an organization member when the snapshot
// and config name none besides the log-archive and key accounts.
const memberProbeAccount = "999999999998"

// patternRole is a role named by the reader pattern in a member account.
func (e *env) patternRole(pattern, account string) string {
	name := strings.NewReplacer("*", "audit", "?", "x").Replace(pattern)
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", e.partition(), account, name)
}
