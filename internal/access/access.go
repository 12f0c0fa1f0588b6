// Package access is trailwarden's one model of who can reach the pipeline's
// resources, over the evaluator: the policy set of each policy trailwarden
// writes (a target), the stand-ins for identities trailwarden cannot see
// (a caller's own permissions, assumed to allow everything), the outsider
// principals that must stay refused, and a cache that compiles each
// distinct policy set once. proof, plan and audit decide through it.
package access

import (
	"fmt"
	"sync"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Target names one policy trailwarden writes, which decides a request.
type Target string

// Targets.
const (
	Bucket   Target = "bucket"
	Key      Target = "key"
	Trust    Target = "reader-trust"
	Identity Target = "reader-access"
)

// Targets lists every target in the order apply writes them.
var Targets = []Target{Bucket, Key, Trust, Identity}

// OutsiderAccount stands for any account outside every configuration: a
// caller from it must be refused.
const OutsiderAccount = "999999999999"

// OutsiderRole is the ARN of a role in the outsider account.
func OutsiderRole(partition string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/outsider", partition, OutsiderAccount)
}

// Outsider is a session of the outsider role.
func Outsider(partition, session string) (eval.Principal, error) {
	p, err := eval.ParsePrincipal(fmt.Sprintf("arn:%s:sts::%s:assumed-role/outsider/%s", partition, OutsiderAccount, session))
	if err != nil {
		return eval.Principal{}, fmt.Errorf("outsider principal: %w", err)
	}
	return p, nil
}

// Anonymous is an unauthenticated caller.
func Anonymous() eval.Principal { return eval.Principal{Kind: eval.KindAnonymous} }

// allowAll is the stand-in document (see AllowAll).
var allowAll = &policy.Document{Version: policy.Version2012, Statements: []policy.Statement{
	{Effect: policy.Allow, Action: []string{"*"}, Resource: []string{"*"}},
}}

// AllowAll is a policy that allows everything. It stands in for a policy
// trailwarden does not have: a caller's own identity policies (asking what
// a resource policy grants across accounts needs the caller's side to
// allow), or an SCP level a snapshot recorded none for. Callers must not
// change it.
func AllowAll() *policy.Document { return allowAll }

// CallerPermissions names AllowAll standing for a caller's own identity
// policies, as the evaluator's reasons name it.
const CallerPermissions = "caller's own permissions"

// Name is how the evaluator's reasons name target's policy.
func Name(t Target) string { return string(t) + " policy" }

// empty stands for a resource without a policy.
var empty = &policy.Document{Version: policy.Version2012}

// Set is the policy set that decides a request on target's resource with
// doc as its policy (nil: the resource has no policy): the resource policy
// of the bucket, the key (KMS rules) or the reader role (trust rules), or
// the reader role's identity policy.
func Set(t Target, doc *policy.Document) (eval.Policies, error) {
	if doc == nil {
		doc = empty
	}
	named := &eval.Named{Name: Name(t), Doc: doc}
	switch t {
	case Bucket:
		return eval.Policies{Resource: named}, nil
	case Key:
		return eval.Policies{Resource: named, ResourceKind: eval.KMSKey}, nil
	case Trust:
		return eval.Policies{Resource: named, ResourceKind: eval.RoleTrust}, nil
	case Identity:
		return eval.Policies{Identity: []eval.Named{*named}}, nil
	}
	return eval.Policies{}, fmt.Errorf("access: unknown target %q", t)
}

// WithCaller adds the caller's own permissions (AllowAll) to a resource
// policy's set, so that only the resource side can refuse. An identity
// policy's set is returned as it is: it is the caller's side.
func WithCaller(ps eval.Policies) eval.Policies {
	if ps.Resource == nil {
		return ps
	}
	ps.Identity = []eval.Named{{Name: CallerPermissions, Doc: allowAll}}
	return ps
}

// CrossAccount reports whether a request by p on a resource of
// resourceAccount needs the caller's own permissions to allow too: a
// principal of another account (not a service, not anonymous).
func CrossAccount(p eval.Principal, resourceAccount string) bool {
	return p.Kind != eval.KindService && p.Kind != eval.KindAnonymous && p.Account != resourceAccount
}

// Cache compiles each distinct policy set once. It is safe for concurrent
// use; a compiled evaluator is immutable.
type Cache struct {
	mu       sync.Mutex
	m        map[string]entry
	compiles int
}

type entry struct {
	ev  *eval.Evaluator
	err error
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: map[string]entry{}} }

// Evaluator returns the evaluator of the policy set id names, compiling
// the set build returns the first time id is asked for. Equal ids must
// name equal sets; a set that does not compile gives its error every time.
func (c *Cache) Evaluator(id string, build func() (eval.Policies, error)) (*eval.Evaluator, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		return e.ev, e.err
	}
	ps, err := build()
	var ev *eval.Evaluator
	if err == nil {
		ev, err = eval.Compile(ps)
		c.compiles++
	}
	c.m[id] = entry{ev, err}
	return ev, err
}

// Target returns the evaluator of target's set with doc as its policy,
// with the caller's own permissions when caller is true (see WithCaller).
// Documents are told apart by identity: a document must not change while
// the cache is in use.
func (c *Cache) Target(t Target, doc *policy.Document, caller bool) (*eval.Evaluator, error) {
	return c.Evaluator(fmt.Sprintf("target\x00%s\x00%p\x00%t", t, doc, caller), func() (eval.Policies, error) {
		ps, err := Set(t, doc)
		if caller {
			ps = WithCaller(ps)
		}
		return ps, err
	})
}

// Compiles is how many policy sets the cache has compiled.
func (c *Cache) Compiles() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compiles
}
