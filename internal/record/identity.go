package record

// identity reads userIdentity. Members without a column are kept in Extra
// under their dotted path ("userIdentity.sessionContext.webIdFederationData").
func (s *scanner) identity(key []byte, v int) (int, error) {
	s.ev.Identity = Identity{} // a repeated userIdentity counts as its last value
	if v >= len(s.data) || s.data[v] != '{' {
		end, err := s.skip(v, 2)
		if err == nil {
			s.keep(key, v, end)
		}
		return end, err
	}
	id := &s.ev.Identity
	id.Present = true
	path := []string{"userIdentity"}
	return s.object(v, func(k []byte, v int) (int, error) {
		switch string(k) {
		case "type":
			return s.nested(&id.Type, path, k, v)
		case "principalId":
			return s.nested(&id.PrincipalID, path, k, v)
		case "arn":
			return s.nested(&id.ARN, path, k, v)
		case "accountId":
			return s.nested(&id.AccountID, path, k, v)
		case "accessKeyId":
			return s.nested(&id.AccessKeyID, path, k, v)
		case "userName":
			return s.nested(&id.UserName, path, k, v)
		case "invokedBy":
			return s.nested(&id.InvokedBy, path, k, v)
		case "identityProvider":
			return s.nested(&id.IdentityProvider, path, k, v)
		case "sessionContext":
			id.clearSession()
			if v < len(s.data) && s.data[v] == '{' {
				id.Session = true
				return s.session(v)
			}
		}
		return s.other(path, k, v)
	})
}

func (s *scanner) session(v int) (int, error) {
	id := &s.ev.Identity
	path := []string{"userIdentity", "sessionContext"}
	return s.object(v, func(k []byte, v int) (int, error) {
		switch string(k) {
		case "sourceIdentity":
			return s.nested(&id.SourceIdentity, path, k, v)
		case "attributes":
			id.clearAttributes()
			if v < len(s.data) && s.data[v] == '{' {
				return s.attributes(v)
			}
		case "sessionIssuer":
			id.clearIssuer()
			if v < len(s.data) && s.data[v] == '{' {
				id.Issuer = true
				return s.issuer(v)
			}
		}
		return s.other(path, k, v)
	})
}

// attributes reads sessionContext.attributes. No field says the object is
// there, so an empty one is kept in Extra.
func (s *scanner) attributes(v int) (int, error) {
	id := &s.ev.Identity
	path := []string{"userIdentity", "sessionContext", "attributes"}
	end, err := s.object(v, func(k []byte, v int) (int, error) {
		switch string(k) {
		case "creationDate":
			id.Created, id.CreatedOK = 0, false
			end, err := s.nested(&id.CreationDate, path, k, v)
			if err == nil && id.CreationDate != nil {
				if id.Created, id.CreatedOK = ParseTime(id.CreationDate); !id.CreatedOK {
					s.keepIn(&s.extra, path, k, v, end)
				}
			}
			return end, err
		case "mfaAuthenticated":
			end, err := s.skip(v, 2)
			if err != nil {
				return 0, err
			}
			switch string(s.data[v:end]) {
			case `"true"`:
				id.MFAAuthenticated = True
			case `"false"`:
				id.MFAAuthenticated = False
			default:
				id.MFAAuthenticated = Unset
				s.keepIn(&s.extra, path, k, v, end)
			}
			return end, nil
		}
		return s.other(path, k, v)
	})
	if err == nil && s.ws(v+1) == end-1 {
		s.keepIn(&s.extra, path[:2], []byte("attributes"), v, end)
	}
	return end, err
}

func (s *scanner) issuer(v int) (int, error) {
	id := &s.ev.Identity
	path := []string{"userIdentity", "sessionContext", "sessionIssuer"}
	return s.object(v, func(k []byte, v int) (int, error) {
		switch string(k) {
		case "type":
			return s.nested(&id.IssuerType, path, k, v)
		case "principalId":
			return s.nested(&id.IssuerPrincipalID, path, k, v)
		case "arn":
			return s.nested(&id.IssuerARN, path, k, v)
		case "accountId":
			return s.nested(&id.IssuerAccountID, path, k, v)
		case "userName":
			return s.nested(&id.IssuerUserName, path, k, v)
		}
		return s.other(path, k, v)
	})
}

// nested is field for a member of a nested object.
func (s *scanner) nested(f *Field, path []string, key []byte, v int) (int, error) {
	if v < len(s.data) && s.data[v] == '"' {
		str, end, err := s.str(v)
		*f = str
		return end, err
	}
	*f = nil
	return s.other(path, key, v)
}

// clearSession, clearAttributes and clearIssuer unset what an object of
// userIdentity set, so that a repeated key counts as its last value.
func (id *Identity) clearSession() {
	id.Session, id.SourceIdentity = false, nil
	id.clearAttributes()
	id.clearIssuer()
}

func (id *Identity) clearAttributes() {
	id.CreationDate, id.Created, id.CreatedOK, id.MFAAuthenticated = nil, 0, false, Unset
}

func (id *Identity) clearIssuer() {
	id.Issuer = false
	id.IssuerType, id.IssuerPrincipalID, id.IssuerARN, id.IssuerAccountID, id.IssuerUserName = nil, nil, nil, nil, nil
}

// other keeps a nested member without a column in Extra.
func (s *scanner) other(path []string, key []byte, v int) (int, error) {
	end, err := s.skip(v, len(path)+2)
	if err == nil {
		s.keepIn(&s.extra, path, key, v, end)
	}
	return end, err
}

// appendEscaped writes an unescaped key back as JSON string contents.
func appendEscaped(buf, key []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range key {
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return buf
}
