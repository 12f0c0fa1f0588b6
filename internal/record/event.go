package record

// event reads the record object at i into s.ev and returns the position
// after it.
func (s *scanner) event(i int) (int, error) {
	s.ev = Event{}
	s.scratch = s.scratch[:0]
	s.extra = s.extra[:0]
	e := &s.ev
	end, err := s.object(i, func(key []byte, v int) (int, error) {
		switch string(key) {
		case "eventID":
			return s.field(&e.EventID, key, v)
		case "eventTime":
			e.Time, e.TimeOK = 0, false
			j, err := s.field(&e.EventTime, key, v)
			if err == nil && e.EventTime != nil {
				if e.Time, e.TimeOK = ParseTime(e.EventTime); !e.TimeOK {
					s.keep(key, v, j)
				}
			}
			return j, err
		case "eventVersion":
			return s.field(&e.EventVersion, key, v)
		case "eventSource":
			return s.field(&e.EventSource, key, v)
		case "eventName":
			return s.field(&e.EventName, key, v)
		case "awsRegion":
			return s.field(&e.AWSRegion, key, v)
		case "sourceIPAddress":
			return s.field(&e.SourceIPAddress, key, v)
		case "userAgent":
			return s.field(&e.UserAgent, key, v)
		case "errorCode":
			return s.field(&e.ErrorCode, key, v)
		case "errorMessage":
			return s.field(&e.ErrorMessage, key, v)
		case "requestID":
			return s.field(&e.RequestID, key, v)
		case "eventType":
			return s.field(&e.EventType, key, v)
		case "eventCategory":
			return s.field(&e.EventCategory, key, v)
		case "recipientAccountId":
			return s.field(&e.RecipientAccountID, key, v)
		case "sharedEventID":
			return s.field(&e.SharedEventID, key, v)
		case "vpcEndpointId":
			return s.field(&e.VPCEndpointID, key, v)
		case "sessionCredentialFromConsole":
			return s.field(&e.SessionCredentialFromConsole, key, v)
		case "readOnly":
			return s.flag(&e.ReadOnly, key, v, false)
		case "managementEvent":
			return s.flag(&e.ManagementEvent, key, v, false)
		case "requestParameters":
			return s.json(&e.RequestParameters, v)
		case "responseElements":
			return s.json(&e.ResponseElements, v)
		case "additionalEventData":
			return s.json(&e.AdditionalEventData, v)
		case "resources":
			return s.json(&e.Resources, v)
		case "serviceEventDetails":
			return s.json(&e.ServiceEventDetails, v)
		case "tlsDetails":
			return s.json(&e.TLSDetails, v)
		case "addendum":
			return s.json(&e.Addendum, v)
		case "edgeDeviceDetails":
			return s.json(&e.EdgeDeviceDetails, v)
		case "insightDetails":
			return s.json(&e.InsightDetails, v)
		case "userIdentity":
			return s.identity(key, v)
		}
		j, err := s.skip(v, 2)
		if err == nil {
			s.keep(key, v, j)
		}
		return j, err
	})
	if err != nil {
		return 0, err
	}
	if len(s.extra) > 0 {
		s.extra = append(s.extra, '}')
		e.Extra = s.extra
	}
	return end, nil
}

// object walks the members of the object at i (its '{'), calling member
// with each key and the start of its value; member returns the position
// after the value.
func (s *scanner) object(i int, member func(key []byte, v int) (int, error)) (int, error) {
	d := s.data
	j := s.ws(i + 1)
	if j < len(d) && d[j] == '}' {
		return j + 1, nil
	}
	for {
		key, v, err := s.key(j)
		if err != nil {
			return 0, err
		}
		if j, err = member(key, v); err != nil {
			return 0, err
		}
		if j, err = s.after(j, '}'); err != nil {
			return 0, err
		}
		if d[j-1] == '}' {
			return j, nil
		}
	}
}

// field reads a string field. Any other value (null included) leaves the
// field unset and is kept in Extra as it was. A repeated key counts as its
// last value, as in encoding/json (Extra keeps the earlier ones).
func (s *scanner) field(f *Field, key []byte, v int) (int, error) {
	if v < len(s.data) && s.data[v] == '"' {
		str, end, err := s.str(v)
		*f = str
		return end, err
	}
	*f = nil
	end, err := s.skip(v, 2)
	if err == nil {
		s.keep(key, v, end)
	}
	return end, err
}

// flag reads a boolean written as a JSON boolean, or as the strings
// "true" and "false" when quoted is set. Anything else is kept in Extra.
func (s *scanner) flag(b *Bool, key []byte, v int, quoted bool) (int, error) {
	d := s.data
	lit := func(t string) bool { return len(d)-v >= len(t) && string(d[v:v+len(t)]) == t }
	switch {
	case !quoted && lit("true"):
		*b = True
		return v + 4, nil
	case !quoted && lit("false"):
		*b = False
		return v + 5, nil
	case quoted && lit(`"true"`):
		*b = True
		return v + 6, nil
	case quoted && lit(`"false"`):
		*b = False
		return v + 7, nil
	}
	*b = Unset
	end, err := s.skip(v, 2)
	if err == nil {
		s.keep(key, v, end)
	}
	return end, err
}

func (s *scanner) json(dst *[]byte, v int) (int, error) {
	raw, end, err := s.raw(v)
	*dst = raw
	return end, err
}

// keep adds the member key: data[v:end] to Extra.
func (s *scanner) keep(key []byte, v, end int) {
	s.keepIn(&s.extra, nil, key, v, end)
}

// keepIn adds a member to the Extra object buf, under the path of
// enclosing objects (for nested fields), as {"a":{"b":value}} would merge.
func (s *scanner) keepIn(buf *[]byte, path []string, key []byte, v, end int) {
	if len(*buf) == 0 {
		*buf = append(*buf, '{')
	} else {
		*buf = append(*buf, ',')
	}
	*buf = appendKey(*buf, path, key)
	*buf = append(*buf, s.clean(s.data[v:end:end])...)
}

// appendKey writes "path.to.key": as a JSON key. Nested fields kept in
// Extra are named by their dotted path from the record's top level.
func appendKey(buf []byte, path []string, key []byte) []byte {
	buf = append(buf, '"')
	for _, p := range path {
		buf = append(buf, p...)
		buf = append(buf, '.')
	}
	buf = appendEscaped(buf, key)
	return append(buf, '"', ':')
}
