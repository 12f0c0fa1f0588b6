package generator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/merge"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// ManagedPolicyLimit is IAM's managed policy size limit (6,144 characters,
// whitespace not counted); the reader's permissions are one managed policy.
const ManagedPolicyLimit = 6144

// Output is one generated (and possibly merged) policy with what a person
// needs to review it.
type Output struct {
	Doc   *policy.Document `json:"policy"`
	Kind  string           `json:"kind"`
	Scope string           `json:"delivery_scope,omitempty"`
	Size  int              `json:"size"`
	Limit int              `json:"limit"`
	// Changes lists what happened to each owned statement (merge only).
	Changes []merge.Change `json:"changes,omitempty"`
	// Foreign is the number of kept statements trailwarden does not own.
	Foreign int      `json:"foreign_statements"`
	Notes   []string `json:"notes,omitempty"`
	// Conflicts are foreign statements that block what the config intends,
	// decided by the evaluator.
	Conflicts []proof.Conflict `json:"conflicts,omitempty"`
}

// ErrTooLarge is wrapped by every size-limit error.
var ErrTooLarge = errors.New("policy too large")

// Bucket generates the bucket policy and merges it into existing (nil when
// the bucket has no policy). Under delivery_scope auto it takes the most
// precise scope that fits AWS's 20 KB limit and says when it had to widen.
func Bucket(c *config.Config, existing *policy.Document) (*Output, error) {
	return scoped(c, proof.TargetBucket, "bucket policy", policy.ResourcePolicy, policy.BucketPolicyLimit, existing, func(scope string) ([]policy.Statement, error) {
		return bucketStatements(c, scope), nil
	})
}

// Key generates the KMS key policy and merges it into existing. A new
// policy (existing nil) includes the key-account administration statement,
// and so does a policy that already has trailwarden's: dropping it on a
// later merge could lock the account out of its own key.
func Key(c *config.Config, existing *policy.Document) (*Output, error) {
	withAdmin := existing == nil || hasSid(existing, SidKeyAdmin)
	return scoped(c, proof.TargetKey, "key policy", policy.KeyPolicy, policy.KeyPolicyLimit, existing, func(scope string) ([]policy.Statement, error) {
		return keyStatements(c, scope, withAdmin)
	})
}

func hasSid(doc *policy.Document, sid string) bool {
	for _, st := range doc.Statements {
		if st.Sid == sid {
			return true
		}
	}
	return false
}

// ReaderTrust generates the reader role's trust policy.
func ReaderTrust(c *config.Config) (*Output, error) {
	doc, err := readerTrust(c)
	if err != nil {
		return nil, err
	}
	return fixed(c, proof.TargetTrust, "trust policy", policy.TrustPolicy, doc, policy.TrustPolicyLimit,
		"name fewer roles, use readers.role_pattern, or raise the IAM quota \"Role trust policy length\"")
}

// ReaderAccess generates the reader role's permissions policy.
func ReaderAccess(c *config.Config) (*Output, error) {
	return fixed(c, proof.TargetAccess, "reader permissions policy", policy.IdentityPolicy, readerAccess(c), ManagedPolicyLimit, "")
}

func fixed(c *config.Config, target proof.Target, kind string, pk policy.Kind, doc *policy.Document, limit int, hint string) (*Output, error) {
	if err := doc.Check(pk); err != nil {
		return nil, fmt.Errorf("generator: %s fails its own check: %w", kind, err)
	}
	size := policy.Size(doc)
	if size > limit {
		return nil, fmt.Errorf("%s is %d characters, over AWS's limit of %d; %s: %w", kind, size, limit, hint, ErrTooLarge)
	}
	out := &Output{Doc: doc, Kind: kind, Size: size, Limit: limit}
	return out, selfCheck(c, target, out)
}

// selfCheck evaluates the intended requests against the policy. Foreign
// statements that block one are reported as conflicts; a block without a
// foreign statement is a generator bug and an error.
func selfCheck(c *config.Config, target proof.Target, out *Output) error {
	conflicts, err := proof.Conflicts(c, target, out.Doc, Owned(c))
	if err != nil {
		return err
	}
	for _, cf := range conflicts {
		if cf.Statement < 0 && out.Foreign == 0 {
			return fmt.Errorf("generator: %s does not allow what the config intends: %s", out.Kind, cf)
		}
	}
	out.Conflicts = conflicts
	return nil
}

// candidateScopes lists the delivery scopes to try, most precise first.
func candidateScopes(c *config.Config) []string {
	if c.DeliveryScope != config.ScopeAuto {
		return []string{c.DeliveryScope}
	}
	var out []string
	if c.Trail.Organization {
		out = []string{config.ScopePerAccount}
	} else {
		out = []string{config.ScopePerAccount, config.ScopeAccountList}
	}
	if c.OrganizationID != "" {
		out = append(out, config.ScopeOrganization)
	}
	return out
}

func scoped(c *config.Config, target proof.Target, kind string, pk policy.Kind, limit int, existing *policy.Document, build func(scope string) ([]policy.Statement, error)) (*Output, error) {
	var notes []string
	scopes := candidateScopes(c)
	for i, scope := range scopes {
		stmts, err := build(scope)
		if err != nil {
			return nil, err
		}
		m := merge.Merge(existing, stmts, Owned(c))
		if err := m.Doc.Check(pk); err != nil {
			return nil, fmt.Errorf("merged %s is not valid: %w", kind, err)
		}
		size := policy.Size(m.Doc)
		if size <= limit {
			out := &Output{Doc: m.Doc, Kind: kind, Scope: scope, Size: size, Limit: limit,
				Foreign: m.Foreign, Notes: append(notes, m.Notes...)}
			if existing != nil {
				out.Changes = m.Changes
			}
			return out, selfCheck(c, target, out)
		}
		if i+1 < len(scopes) {
			notes = append(notes, fmt.Sprintf("%s scoping would make the %s %d bytes, over AWS's %d-byte limit; switched to %s scoping",
				scope, kind, size, limit, scopes[i+1]))
			continue
		}
		hint := "move foreign statements elsewhere or deliver with an organization trail"
		if c.OrganizationID == "" {
			hint = "set organization_id so delivery can be scoped to the organization (aws:SourceOrgID), or split the accounts across buckets"
		}
		return nil, fmt.Errorf("%s is %d bytes with %s scoping, over AWS's %d-byte limit even at the widest scope allowed (%s); %s: %w",
			kind, size, scope, limit, strings.Join(scopes, ", "), hint, ErrTooLarge)
	}
	return nil, fmt.Errorf("generator: no delivery scope to try")
}
