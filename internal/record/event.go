package record

import (
	"math/bits"
	"strconv"
)

// The members of a record with a column of their own, as bits of
// scanner.members, to find a repeated key.
const (
	mEventID = iota
	mEventTime
	mEventVersion
	mEventSource
	mEventName
	mAWSRegion
	mSourceIPAddress
	mUserAgent
	mErrorCode
	mErrorMessage
	mRequestID
	mEventType
	mEventCategory
	mRecipientAccountID
	mSharedEventID
	mVPCEndpointID
	mSessionCredentialFromConsole
	mReadOnly
	mManagementEvent
	mRequestParameters
	mResponseElements
	mAdditionalEventData
	mResources
	mServiceEventDetails
	mTLSDetails
	mAddendum
	mEdgeDeviceDetails
	mInsightDetails
	mUserIdentity
)

// event reads the record object at i into s.ev and returns the position
// after it.
//
// A record is read once, noting which members with a column it has (one
// bit each) without checking for repeated ones; when the count of its
// keys says one repeats, it is read again carefully (see repeated).
// Repeated keys are rare, and the check costs the common case nothing.
func (s *scanner) event(i int) (int, error) {
	s.careful = false
	end, err := s.eventPass(i)
	if err == nil && (s.ev.DuplicateKey != nil || bits.OnesCount64(s.members)+len(s.others) != s.keys) {
		s.careful = true
		end, err = s.eventPass(i)
	}
	return end, err
}

func (s *scanner) eventPass(i int) (int, error) {
	s.ev = Event{}
	s.scratch = s.scratch[:0]
	s.extra = s.extra[:0]
	s.members, s.others, s.keys = 0, s.others[:0], 0
	e := &s.ev
	end, err := s.object(i, func(key []byte, v int) (int, error) {
		s.keys++
		switch string(key) {
		case "eventID":
			return s.field(&e.EventID, key, v, mEventID)
		case "eventTime":
			if s.repeated(mEventTime, key) && e.TimeOK {
				s.keepString(key, e.EventTime) // an earlier time Time could not hold is in Extra already
			}
			e.Time, e.TimeOK = 0, false
			j, err := s.field(&e.EventTime, key, v, checked)
			if err == nil && e.EventTime != nil {
				if e.Time, e.TimeOK = ParseTime(e.EventTime); !e.TimeOK {
					s.keep(key, v, j)
				}
			}
			return j, err
		case "eventVersion":
			return s.field(&e.EventVersion, key, v, mEventVersion)
		case "eventSource":
			return s.field(&e.EventSource, key, v, mEventSource)
		case "eventName":
			return s.field(&e.EventName, key, v, mEventName)
		case "awsRegion":
			return s.field(&e.AWSRegion, key, v, mAWSRegion)
		case "sourceIPAddress":
			return s.field(&e.SourceIPAddress, key, v, mSourceIPAddress)
		case "userAgent":
			return s.field(&e.UserAgent, key, v, mUserAgent)
		case "errorCode":
			return s.field(&e.ErrorCode, key, v, mErrorCode)
		case "errorMessage":
			return s.field(&e.ErrorMessage, key, v, mErrorMessage)
		case "requestID":
			return s.field(&e.RequestID, key, v, mRequestID)
		case "eventType":
			return s.field(&e.EventType, key, v, mEventType)
		case "eventCategory":
			return s.field(&e.EventCategory, key, v, mEventCategory)
		case "recipientAccountId":
			return s.field(&e.RecipientAccountID, key, v, mRecipientAccountID)
		case "sharedEventID":
			return s.field(&e.SharedEventID, key, v, mSharedEventID)
		case "vpcEndpointId":
			return s.field(&e.VPCEndpointID, key, v, mVPCEndpointID)
		case "sessionCredentialFromConsole":
			return s.field(&e.SessionCredentialFromConsole, key, v, mSessionCredentialFromConsole)
		case "readOnly":
			return s.flag(&e.ReadOnly, key, v, false, mReadOnly)
		case "managementEvent":
			return s.flag(&e.ManagementEvent, key, v, false, mManagementEvent)
		case "requestParameters":
			return s.json(&e.RequestParameters, key, v, mRequestParameters)
		case "responseElements":
			return s.json(&e.ResponseElements, key, v, mResponseElements)
		case "additionalEventData":
			return s.json(&e.AdditionalEventData, key, v, mAdditionalEventData)
		case "resources":
			return s.json(&e.Resources, key, v, mResources)
		case "serviceEventDetails":
			return s.json(&e.ServiceEventDetails, key, v, mServiceEventDetails)
		case "tlsDetails":
			return s.json(&e.TLSDetails, key, v, mTLSDetails)
		case "addendum":
			return s.json(&e.Addendum, key, v, mAddendum)
		case "edgeDeviceDetails":
			return s.json(&e.EdgeDeviceDetails, key, v, mEdgeDeviceDetails)
		case "insightDetails":
			return s.json(&e.InsightDetails, key, v, mInsightDetails)
		case "userIdentity":
			s.repeated(mUserIdentity, key)
			return s.identity(key, v)
		}
		s.repeatedOther(key)
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
// last value, as in encoding/json; Extra keeps the earlier ones.
func (s *scanner) field(f *Field, key []byte, v int, m uint) (int, error) {
	if s.repeated(m, key) && *f != nil {
		s.keepString(key, *f)
	}
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
func (s *scanner) flag(b *Bool, key []byte, v int, quoted bool, m uint) (int, error) {
	if s.repeated(m, key) && *b != Unset {
		s.keepBool(key, *b == True, quoted)
	}
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

func (s *scanner) json(dst *[]byte, key []byte, v int, m uint) (int, error) {
	if s.repeated(m, key) && *dst != nil {
		s.keepText(key, *dst)
	}
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

// checked is the member number of a member already checked for
// repetition: its bit is none, and it is not counted.
const checked = 64

// repeated notes that the record has member m (key) and says whether it
// had it already: the first key a record repeats is its DuplicateKey.
// One bit a member, so that the common case costs no lookup.
func (s *scanner) repeated(m uint, key []byte) bool {
	bit := uint64(1) << m
	if !s.careful {
		s.members |= bit
		return false
	}
	if s.members&bit == 0 {
		s.members |= bit
		return false
	}
	if s.ev.DuplicateKey == nil {
		s.ev.DuplicateKey = key
	}
	return true
}

// repeatedOther is repeated for a member without a column (kept in
// Extra, both values when it is repeated): few records have any, so a
// list of them is enough.
func (s *scanner) repeatedOther(key []byte) {
	for _, k := range s.others {
		if string(k) == string(key) {
			if s.ev.DuplicateKey == nil {
				s.ev.DuplicateKey = key
			}
			return
		}
	}
	s.others = append(s.others, key)
}

// keepString adds the member key: "str" (str unescaped) to Extra: the
// earlier value of a repeated string member.
func (s *scanner) keepString(key, str []byte) {
	s.keepText(key, appendString(nil, str))
}

// keepBool adds the earlier value of a repeated flag to Extra, as the
// record wrote it.
func (s *scanner) keepBool(key []byte, b, quoted bool) {
	v := strconv.FormatBool(b)
	if quoted {
		v = `"` + v + `"`
	}
	s.keepText(key, []byte(v))
}

// keepText adds the member key: text (valid JSON) to Extra.
func (s *scanner) keepText(key, text []byte) {
	if len(s.extra) == 0 {
		s.extra = append(s.extra, '{')
	} else {
		s.extra = append(s.extra, ',')
	}
	s.extra = appendKey(s.extra, nil, key)
	s.extra = append(s.extra, text...)
}

// appendString writes str as a JSON string.
func appendString(buf, str []byte) []byte {
	buf = append(buf, '"')
	buf = appendEscaped(buf, str)
	return append(buf, '"')
}
