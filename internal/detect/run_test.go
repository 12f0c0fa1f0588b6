package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

func failedLogin(i int, at time.Time, ip string) map[string]any {
	ev := map[string]any{"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
		"sourceIPAddress": ip, "userIdentity": map[string]any{"type": "IAMUser", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
		"additionalEventData": map[string]any{"MFAUsed": "No"}, "responseElements": map[string]any{"ConsoleLogin": "Failure"},
		"errorMessage": "Failed authentication"}
	CompleteEvent(ev, i, at)
	return ev
}

func denied(i int, at time.Time, user string) map[string]any {
	ev := map[string]any{"eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "errorCode": "AccessDenied",
		"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::333333333333:user/" + user, "userName": user}}
	CompleteEvent(ev, i, at)
	return ev
}

// TestCorrelations: 20 failed sign-ins from one address within 5 minutes
// fire, 19 do not, nor do 20 spread over 10 minutes or over two
// addresses; the same for AccessDenied per principal within 10 minutes.
func TestCorrelations(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var evs []map[string]any
	n := 0
	add := func(ev map[string]any) { evs = append(evs, ev); n++ }
	for k := 0; k < 20; k++ { // fires: 20 in 190 s
		add(failedLogin(n, base.Add(time.Duration(k)*10*time.Second), "203.0.113.1"))
	}
	for k := 0; k < 19; k++ { // 19 only
		add(failedLogin(n, base.Add(time.Hour+time.Duration(k)*10*time.Second), "203.0.113.2"))
	}
	for k := 0; k < 20; k++ { // 20 over 10 minutes: never 20 within 5
		add(failedLogin(n, base.Add(2*time.Hour+time.Duration(k)*30*time.Second), "203.0.113.3"))
	}
	for k := 0; k < 20; k++ { // 20 within 5 minutes, from two addresses
		add(failedLogin(n, base.Add(3*time.Hour+time.Duration(k)*10*time.Second), fmt.Sprintf("203.0.113.%d", 4+k%2)))
	}
	for k := 0; k < 25; k++ { // fires
		add(denied(n, base.Add(4*time.Hour+time.Duration(k)*20*time.Second), "stolen"))
	}
	for k := 0; k < 19; k++ {
		add(denied(n, base.Add(5*time.Hour+time.Duration(k)*20*time.Second), "busy"))
	}
	st := StoreOf(t, evs)
	cat := builtin(t, sigma.DuckDB)
	rules := byName(cat)
	rep, err := Run(context.Background(), st, cat, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	var logins, deniedDs []Detection
	for _, d := range rep.Detections {
		switch d.RuleID {
		case rules["tw_console_login_failures_burst"].ID:
			logins = append(logins, d)
		case rules["tw_access_denied_burst"].ID:
			deniedDs = append(deniedDs, d)
		case rules["tw_console_login_failure"].ID, rules["tw_access_denied"].ID:
			t.Errorf("a rule only counted by a correlation raised a detection: %+v", d)
		}
	}
	if len(logins) != 1 || logins[0].SourceIP != "203.0.113.1" || len(logins[0].EventIDs) != 20 || logins[0].Count != 20 {
		t.Errorf("failed sign-in bursts: %+v", logins)
	}
	if len(deniedDs) != 1 || deniedDs[0].Principal != "arn:aws:iam::333333333333:user/stolen" || len(deniedDs[0].EventIDs) != 25 {
		t.Errorf("access denied bursts: %+v", deniedDs)
	}
	if len(logins) == 1 && (!logins[0].Time.Equal(base) || !logins[0].LastTime.Equal(base.Add(190*time.Second)) || logins[0].Account != "333333333333") {
		t.Errorf("burst times and account: %+v", logins[0])
	}
}

// TestUnknown: no detections in an empty window, or with expected
// accounts that have no events, is not an all-clear: the report says
// what is unknown.
func TestUnknown(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	ev := map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "requestParameters": map[string]any{"name": "org-trail"}}
	CompleteEvent(ev, 1, base)
	st := StoreOf(t, []map[string]any{ev})
	cat := builtin(t, sigma.DuckDB)
	ctx := context.Background()

	rep, err := Run(ctx, st, cat, Scope{Since: base.Add(time.Hour), Until: base.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Detections) != 0 || rep.Events != 0 || len(rep.Unknown) == 0 || !strings.Contains(rep.Unknown[0], "no events in the window") {
		t.Errorf("empty window: %+v", rep)
	}
	rep, err = Run(ctx, st, cat, Scope{ExpectAccounts: []string{"333333333333", "444444444444"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Detections) != 1 || len(rep.Unknown) != 1 || !strings.Contains(rep.Unknown[0], "444444444444") {
		t.Errorf("missing account: %+v", rep)
	}
	rep, err = Run(ctx, st, cat, Scope{Since: base, Until: base.Add(time.Second), ExpectAccounts: []string{"333333333333"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Detections) != 1 || len(rep.Unknown) != 0 {
		t.Errorf("window holding the event: %+v", rep)
	}
	// Without a config the pipeline rules cannot run: unknown, by rule.
	bare, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bare.Compile(sigma.DuckDB, nil)
	rep, err = Run(ctx, st, bare, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Detections) != 0 || len(rep.Unknown) != 1 || !strings.Contains(rep.Unknown[0], "rules did not run") ||
		!strings.Contains(rep.Unknown[0], "without a config") {
		t.Errorf("no config: %d detections, unknown %v", len(rep.Detections), rep.Unknown)
	}
	// A store that lost events (DuckDB 1.4.5 after a failed checkpoint)
	// cannot vouch for "nothing found", even in a window that holds events
	// of every expected account.
	lost := lostStore{st, errors.New("store x: the store holds fewer events than it records for its files: 6 events, 9 recorded")}
	rep, err = Run(ctx, lost, cat, Scope{Since: base, Until: base.Add(time.Second), ExpectAccounts: []string{"333333333333"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unknown) != 1 || !strings.Contains(rep.Unknown[0], "6 events, 9 recorded") || rep.Verdict("high") == "clear" {
		t.Errorf("store that lost events: verdict %s, unknown %v", rep.Verdict("high"), rep.Unknown)
	}
}

// lostStore is a store whose Lost says it holds fewer events than it
// records, as duckdb.Store's does.
type lostStore struct {
	query.Engine
	err error
}

func (l lostStore) Lost() error { return l.err }

// TestScopeFilters: --accounts and --regions limit what is read.
func TestScopeFilters(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var evs []map[string]any
	for i, where := range [][2]string{{"333333333333", "us-east-1"}, {"444444444444", "us-east-1"}, {"333333333333", "eu-west-1"}} {
		ev := map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "requestParameters": map[string]any{"name": "org-trail"},
			"recipientAccountId": where[0], "awsRegion": where[1]}
		CompleteEvent(ev, i, base)
		evs = append(evs, ev)
	}
	st := StoreOf(t, evs)
	cat := builtin(t, sigma.DuckDB)
	for _, tc := range []struct {
		sc   Scope
		want int
	}{{Scope{}, 3}, {Scope{Accounts: []string{"444444444444"}}, 1}, {Scope{Regions: []string{"eu-west-1"}}, 1},
		{Scope{Accounts: []string{"333333333333"}, Regions: []string{"us-east-1"}}, 1}} {
		rep, err := Run(context.Background(), st, cat, tc.sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Detections) != tc.want {
			t.Errorf("%+v: %d detections, want %d", tc.sc, len(rep.Detections), tc.want)
		}
	}
}
