package awsfake

import (
	"fmt"
	"strings"
	"time"
)

// sts answers AssumeRole and GetCallerIdentity. Assumed credentials carry
// the role's account in their key id, so later calls made with them are
// served from that account.
func (w *World) sts(c *Call, reqID string) Response {
	switch c.Operation {
	case "AssumeRole":
		arn := c.Params["RoleArn"]
		parts := strings.Split(arn, ":")
		if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") || len(parts[4]) != 12 {
			return errorResponse("sts", "ValidationError", fmt.Sprintf("%q is not a role ARN", arn), 0, reqID)
		}
		account, role := parts[4], lastAfter(parts[5], "/")
		session := c.Params["RoleSessionName"]
		w.state.assumed[account] = role + "/" + session
		akid := fmt.Sprintf("ASIA%s%04d", account, w.seq%10000)
		inner := fmt.Sprintf(`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>fake-secret-%s</SecretAccessKey><SessionToken>fake-session-token</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<AssumedRoleUser><AssumedRoleId>AROAFAKE%s:%s</AssumedRoleId><Arn>arn:%s:sts::%s:assumed-role/%s/%s</Arn></AssumedRoleUser>`,
			akid, account, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), account, esc(session), w.Partition, account, esc(role), esc(session))
		return OK(QueryResult("sts", "AssumeRole", inner))
	case "GetCallerIdentity":
		arn := fmt.Sprintf("arn:%s:iam::%s:user/awsfake", w.Partition, c.Account)
		if c.Account != w.Caller {
			who := w.state.assumed[c.Account]
			if who == "" {
				who = "unknown/awsfake"
			}
			arn = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s", w.Partition, c.Account, who)
		}
		inner := fmt.Sprintf("<Arn>%s</Arn><UserId>AIDAFAKE%s</UserId><Account>%s</Account>", esc(arn), c.Account, c.Account)
		return OK(QueryResult("sts", "GetCallerIdentity", inner))
	}
	return errorResponse("sts", "InvalidAction", "awsfake: STS "+c.Operation+" is not faked", 0, reqID)
}
