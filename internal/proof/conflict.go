package proof

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Conflict is a statement trailwarden does not own that stops an intended
// request, e.g. a foreign Deny that blocks CloudTrail delivery.
type Conflict struct {
	Sid       string        `json:"sid,omitempty"`
	Statement int           `json:"statement"` // 0-based index in the merged policy
	Line      int           `json:"line,omitempty"`
	Blocks    string        `json:"blocks"`
	Decision  eval.Decision `json:"decision"`
	Why       string        `json:"why"`
}

func (c Conflict) String() string {
	who := fmt.Sprintf("statement %d", c.Statement)
	if c.Sid != "" {
		who = fmt.Sprintf("statement %q", c.Sid)
	}
	return fmt.Sprintf("%s blocks: %s (%s)", who, c.Blocks, c.Why)
}

// Conflicts evaluates every intended request of target against doc and
// reports each foreign statement that denies one. A request denied without
// a foreign deny is reported too, since the merge cannot be trusted then.
func Conflicts(c *config.Config, target Target, doc *policy.Document, owned func(sid string) bool) ([]Conflict, error) {
	intents, err := Intended(c, target)
	if err != nil {
		return nil, err
	}
	evService, evCaller, err := evaluators(target, doc)
	if err != nil {
		return nil, fmt.Errorf("check conflicts: %w", err)
	}
	var out []Conflict
	for _, in := range intents {
		ev := evCaller
		if in.Request.Principal.Kind == eval.KindService {
			ev = evService
		}
		res := ev.Evaluate(in.Request)
		if res.Decision == eval.Allowed {
			continue
		}
		found := false
		for _, r := range res.Reasons {
			if r.Matched && r.Effect == policy.Deny && !owned(r.Sid) {
				found = true
				out = append(out, Conflict{Sid: r.Sid, Statement: r.Statement, Line: r.Line, Blocks: in.Description,
					Decision: res.Decision, Why: "explicit Deny matches this request"})
			}
		}
		if !found {
			out = append(out, Conflict{Statement: -1, Blocks: in.Description, Decision: res.Decision,
				Why: fmt.Sprintf("the merged policy does not allow it (decided by the %s layer)", res.BlockedBy)})
		}
	}
	return out, nil
}
