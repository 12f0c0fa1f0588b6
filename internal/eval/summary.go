package eval

// summarize turns the layer states into the per-layer outcomes of a Result.
func summarize(identity, resource, boundary, session *layerState, scps, rcps []layerState, scpNote, rcpNote string, kind ResourceKind) []LayerResult {
	out := make([]LayerResult, 0, 4+len(scps)+len(rcps))
	add := func(l Layer, level int, ls *layerState, note string) {
		lr := LayerResult{Layer: l, Level: level, Policies: ls.names, Note: note}
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
	add(LayerIdentity, 0, identity, idNote)
	resNote := ""
	switch {
	case !resource.present:
		resNote = "no resource-based policy"
	case kind == KMSKey:
		resNote = "KMS key policy: must allow explicitly; the account principal delegates to IAM policies"
	case kind == RoleTrust:
		resNote = "role trust policy: must allow explicitly; the account principal delegates to IAM policies"
	}
	add(LayerResource, 0, resource, resNote)
	if boundary.present {
		add(LayerBoundary, 0, boundary, "")
	}
	if session.present {
		note := ""
		if !session.applies {
			note = "session policies apply only to role sessions and federated users"
		}
		add(LayerSession, 0, session, note)
	}
	for i := range scps {
		add(LayerSCP, i+1, &scps[i], scpNote)
	}
	for i := range rcps {
		add(LayerRCP, i+1, &rcps[i], rcpNote)
	}
	return out
}
