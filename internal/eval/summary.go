package eval

// summarize turns the layer states into the per-layer outcomes of a Result.
func (e *Evaluator) summarize(identity, resource, boundary, session *layerState, scps, rcps []layerState, scpNote, rcpNote string) []LayerResult {
	out := make([]LayerResult, 0, 4+len(scps)+len(rcps))
	add := func(l Layer, level int, ls *layerState, note string, ps ...*cPolicy) {
		lr := LayerResult{Layer: l, Level: level, Note: note}
		for _, cp := range ps {
			if cp != nil {
				lr.Policies = append(lr.Policies, cp.name)
			}
		}
		switch {
		case !ls.applies:
			lr.Outcome = OutcomeNotApplicable
		case ls.denied:
			lr.Outcome = OutcomeExplicitlyDenied
		case ls.allowed && l == LayerResource && ls.best == MatchAccount:
			lr.Outcome = OutcomeAllowedForAccount
		case ls.allowed:
			lr.Outcome = OutcomeAllowed
		default:
			lr.Outcome = OutcomeImplicitlyDenied
		}
		if l == LayerResource && ls.allowed {
			lr.PrincipalMatch = ls.best
		}
		out = append(out, lr)
	}
	idNote := ""
	if identity.present && !identity.applies {
		idNote = "identity-based policies do not apply to this principal"
	}
	add(LayerIdentity, 0, identity, idNote, e.identity...)
	resNote := ""
	switch {
	case !resource.present:
		resNote = "no resource-based policy"
	case e.kind == KMSKey:
		resNote = "KMS key policy: must allow explicitly; the account principal delegates to IAM policies"
	case e.kind == RoleTrust:
		resNote = "role trust policy: must allow explicitly; the account principal delegates to IAM policies"
	}
	add(LayerResource, 0, resource, resNote, e.resource)
	if boundary.present {
		add(LayerBoundary, 0, boundary, "", e.boundary)
	}
	if session.present {
		note := ""
		if !session.applies {
			note = "session policies apply only to role sessions and federated users"
		}
		add(LayerSession, 0, session, note, e.session)
	}
	for i := range scps {
		add(LayerSCP, i+1, &scps[i], scpNote, e.scps[i]...)
	}
	for i := range rcps {
		add(LayerRCP, i+1, &rcps[i], rcpNote, e.rcps[i]...)
	}
	return out
}
