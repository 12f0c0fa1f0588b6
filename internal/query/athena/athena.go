// Package athena queries CloudTrail logs where they lie, in S3, with Amazon
// Athena: it generates the table DDL for a trailwarden config (partition
// projection over accounts, regions and days, so partitions never need
// loading) and implements query.Engine with the AWS SDK for Go v2.
//
// A query is StartQueryExecution, then GetQueryExecution polled with a
// bounded backoff until the query succeeds, fails or is cancelled, then
// GetQueryResults page by page as the caller reads the rows. Cancelling the
// context while the query runs sends StopQueryExecution, so an abandoned
// query stops scanning (and billing).
//
// Credentials come from the SDK's default chain, with Options.Profile and
// Options.RoleARN as for every trailwarden adapter (internal/aws/session).
// The credentials need athena:StartQueryExecution, athena:GetQueryExecution,
// athena:GetQueryResults and athena:StopQueryExecution on the workgroup
// (and athena:GetTableMetadata for TableAccounts),
// glue:GetDatabase and glue:GetTable (plus glue:CreateDatabase and
// glue:CreateTable for Setup), s3:GetObject and s3:ListBucket on the log
// bucket, and write access to the query result location.
package athena

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/query"
)

// Options configures a Client.
type Options struct {
	// Region is where Athena runs; put it in the log bucket's region to
	// avoid cross-region transfer. Default: the SDK's configured region.
	Region string
	// Profile selects a profile of the shared AWS config files.
	Profile string
	// RoleARN, if set, is assumed (with ExternalID, if set) through STS.
	RoleARN, ExternalID string
	// Endpoint replaces Athena's regional endpoint with one base URL, such
	// as http://127.0.0.1:8080. It exists for tests.
	Endpoint string
	// Workgroup runs the queries; empty means Athena's default, "primary".
	Workgroup string
	// OutputLocation is the s3:// folder for query results. It may be
	// empty when the workgroup has a result location (or managed results).
	OutputLocation string
	// Database and Catalog are the default database and data catalog of
	// the queries (the QueryExecutionContext). Empty leaves Athena's
	// defaults (database "default", catalog AwsDataCatalog).
	Database, Catalog string
	// Timeout is how long a request may go without progress before it is
	// retried, then fails with session.ErrStalled; 0 means
	// session.DefaultTimeout. It does not bound how long a query runs.
	Timeout time.Duration
	// PollInterval is the first wait between checks of a running query;
	// each wait doubles, up to MaxPollInterval (or PollInterval when that
	// is larger). Default DefaultPollInterval.
	PollInterval time.Duration
}

// Poll timing defaults.
const (
	DefaultPollInterval = 250 * time.Millisecond
	MaxPollInterval     = 5 * time.Second
)

// pageSize is GetQueryResults' MaxResults: the most Athena allows.
const pageSize = 1000

// maxPages bounds paging against a server that never stops handing out
// tokens: 10 million rows, more than any named query returns.
const maxPages = 10_000

// stopTimeout bounds the StopQueryExecution sent after the caller's
// context is done.
const stopTimeout = 10 * time.Second

// Client runs SQL on Athena. It is safe for concurrent use.
type Client struct {
	api      *athena.Client
	o        Options
	sleep    func(ctx context.Context, d time.Duration) error
	maxDelay time.Duration
}

var _ query.Engine = (*Client)(nil)

// New makes a Client. It loads the AWS configuration but makes no request:
// missing or wrong credentials show up on the first query.
func New(ctx context.Context, o Options) (*Client, error) {
	return newClient(ctx, o)
}

// newClient is New with extra client options, so tests can shorten the
// SDK's retry backoff without a field in Options.
func newClient(ctx context.Context, o Options, extra ...func(*athena.Options)) (*Client, error) {
	if o.OutputLocation != "" && !strings.HasPrefix(o.OutputLocation, "s3://") {
		return nil, fmt.Errorf("athena: output location %q is not an S3 URI (s3://bucket/folder/)", o.OutputLocation)
	}
	if o.Database != "" {
		if err := CheckName("database", o.Database); err != nil {
			return nil, err
		}
	}
	if o.PollInterval < 0 {
		return nil, fmt.Errorf("athena: negative poll interval %s", o.PollInterval)
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	cfg, endpoint, err := session.Load(ctx, session.Options{Region: o.Region, Profile: o.Profile,
		RoleARN: o.RoleARN, ExternalID: o.ExternalID, Endpoint: o.Endpoint, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("athena: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("athena: no region: Athena is regional; pass a region (the log bucket's) or set AWS_REGION")
	}
	fns := []func(*athena.Options){func(ao *athena.Options) {
		if endpoint != "" {
			ao.BaseEndpoint = aws.String(endpoint)
		}
	}}
	return &Client{
		api:      athena.NewFromConfig(cfg, append(fns, extra...)...),
		o:        o,
		sleep:    sleepCtx,
		maxDelay: max(MaxPollInterval, o.PollInterval),
	}, nil
}

// Name is the key of Athena's SQL in a query.Named.
func (c *Client) Name() string { return "athena" }

// Query runs sql and returns its rows once it has succeeded. The first
// page of results is read before Query returns; the others as the rows are
// read, with ctx. Values are typed by Athena's column types: boolean →
// bool; tinyint, smallint, integer, bigint → int64; real, float, double →
// float64; date, timestamp and timestamp with time zone → time.Time;
// everything else (varchar, decimal, json, array, map, row...) → string
// as Athena renders it; NULL → nil.
func (c *Client) Query(ctx context.Context, sql string) (query.Rows, error) {
	qe, err := c.run(ctx, sql, c.o.Database)
	if err != nil {
		return nil, err
	}
	r := &rows{ctx: ctx, c: c, id: aws.ToString(qe.QueryExecutionId),
		header: qe.StatementType == types.StatementTypeDml || qe.StatementType == ""}
	if err := r.fetch(); err != nil {
		return nil, err
	}
	return r, nil
}

// Setup creates the database if it does not exist, then runs ddl (from
// DDL) in it.
func (c *Client) Setup(ctx context.Context, ddl, database string) error {
	if err := CheckName("database", database); err != nil {
		return err
	}
	if strings.TrimSpace(ddl) == "" {
		return errors.New("athena: setup: empty DDL")
	}
	// No database in the context: it may not exist yet.
	if _, err := c.run(ctx, "CREATE DATABASE IF NOT EXISTS `"+database+"`", ""); err != nil {
		return fmt.Errorf("athena: create database %s: %w", database, unprefix(err))
	}
	if _, err := c.run(ctx, ddl, database); err != nil {
		return fmt.Errorf("athena: create table in %s: %w", database, unprefix(err))
	}
	return nil
}

// DefaultCatalog is the data catalog of tables created through Athena with
// the Glue Data Catalog.
const DefaultCatalog = "AwsDataCatalog"

// TableAccounts returns the accounts table's partition projection lists
// (projection.account.values of an enum projection, as DDL writes it),
// read with GetTableMetadata (permission athena:GetTableMetadata, and
// glue:GetTable on the catalog). ok is false when the table does not
// project its accounts as an enum, so its metadata cannot say which
// accounts a query reads.
func (c *Client) TableAccounts(ctx context.Context, database, table string) (accounts []string, ok bool, err error) {
	if err := CheckName("database", database); err != nil {
		return nil, false, err
	}
	if err := CheckName("table", table); err != nil {
		return nil, false, err
	}
	in := &athena.GetTableMetadataInput{CatalogName: aws.String(DefaultCatalog), DatabaseName: aws.String(database), TableName: aws.String(table)}
	if c.o.Catalog != "" {
		in.CatalogName = aws.String(c.o.Catalog)
	}
	if c.o.Workgroup != "" {
		in.WorkGroup = aws.String(c.o.Workgroup)
	}
	out, err := c.api.GetTableMetadata(ctx, in)
	if err != nil {
		return nil, false, explain("get table metadata "+database+"."+table, err)
	}
	if out.TableMetadata == nil {
		return nil, false, fmt.Errorf("athena: get table metadata %s.%s: the response has no table", database, table)
	}
	p := out.TableMetadata.Parameters
	if !strings.EqualFold(p["projection.enabled"], "true") || !strings.EqualFold(p["projection.account.type"], "enum") {
		return nil, false, nil
	}
	for _, a := range strings.Split(p["projection.account.values"], ",") {
		if a = strings.TrimSpace(a); a != "" {
			accounts = append(accounts, a)
		}
	}
	return accounts, true, nil
}

// ProjectionError says that a table projects fewer accounts than should
// deliver: every query over it silently skips the missing ones.
type ProjectionError struct {
	Database, Table string
	// Missing are the expected accounts the table does not project;
	// Projected are the ones it does.
	Missing, Projected []string
}

func (e *ProjectionError) Error() string {
	shown := e.Missing
	more := ""
	if len(shown) > 10 {
		shown, more = shown[:10], fmt.Sprintf(" and %d more", len(e.Missing)-10)
	}
	return fmt.Sprintf("athena: table %s.%s projects %d accounts and lacks %d that should deliver (%s%s): every query over it would skip their events",
		e.Database, e.Table, len(e.Projected), len(e.Missing), strings.Join(shown, ", "), more)
}

// Fix is the statement that makes the table project every expected
// account as well as those it projects now.
func (e *ProjectionError) Fix() string {
	all := append(append([]string(nil), e.Projected...), e.Missing...)
	slices.Sort(all)
	all = slices.Compact(all)
	return fmt.Sprintf("ALTER TABLE `%s`.`%s` SET TBLPROPERTIES ('projection.account.values'='%s')", e.Database, e.Table, strings.Join(all, ","))
}

// CheckTable compares the accounts table projects with those expected to
// deliver. It returns a *ProjectionError when some are missing; ok is
// false (and the error nil) when the table's metadata does not say which
// accounts it projects.
func (c *Client) CheckTable(ctx context.Context, database, table string, expected []string) (ok bool, err error) {
	projected, ok, err := c.TableAccounts(ctx, database, table)
	if err != nil || !ok {
		return false, err
	}
	var missing []string
	for _, a := range expected {
		if !slices.Contains(projected, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return true, &ProjectionError{Database: database, Table: table, Missing: missing, Projected: projected}
	}
	return true, nil
}

// unprefix drops the "athena: " its callers' own prefix repeats.
func unprefix(err error) error { return &trimmed{err} }

type trimmed struct{ err error }

func (t *trimmed) Error() string { return strings.TrimPrefix(t.err.Error(), "athena: ") }
func (t *trimmed) Unwrap() error { return t.err }

// run starts sql and waits for it to end. It returns the execution when
// the query succeeded.
func (c *Client) run(ctx context.Context, sql, database string) (*types.QueryExecution, error) {
	if strings.TrimSpace(sql) == "" {
		return nil, errors.New("athena: empty query")
	}
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(sql)}
	if database != "" || c.o.Catalog != "" {
		in.QueryExecutionContext = &types.QueryExecutionContext{}
		if database != "" {
			in.QueryExecutionContext.Database = aws.String(database)
		}
		if c.o.Catalog != "" {
			in.QueryExecutionContext.Catalog = aws.String(c.o.Catalog)
		}
	}
	if c.o.Workgroup != "" {
		in.WorkGroup = aws.String(c.o.Workgroup)
	}
	if c.o.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(c.o.OutputLocation)}
	}
	// The SDK fills ClientRequestToken once per call, so its retries of a
	// throttled start cannot start the query twice.
	out, err := c.api.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, explain("start query", err)
	}
	id := aws.ToString(out.QueryExecutionId)
	if id == "" {
		return nil, errors.New("athena: start query: no query execution id in the response")
	}
	qe, err := c.wait(ctx, id)
	if err != nil {
		return nil, err
	}
	return qe, nil
}

// wait polls the query until it ends. Whenever it gives up on a query
// that may still run (the context is done, or polling fails), it stops the
// query.
func (c *Client) wait(ctx context.Context, id string) (*types.QueryExecution, error) {
	delay := c.o.PollInterval
	for {
		if err := c.sleep(ctx, delay); err != nil {
			return nil, c.abandon(ctx, id, err)
		}
		delay = min(2*delay, c.maxDelay)
		out, err := c.api.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, c.abandon(ctx, id, ctx.Err())
			}
			return nil, c.abandon(ctx, id, explain("get query execution "+id, err))
		}
		qe := out.QueryExecution
		if qe == nil || qe.Status == nil {
			return nil, c.abandon(ctx, id, fmt.Errorf("athena: query %s: the response has no status", id))
		}
		switch s := qe.Status.State; s {
		case types.QueryExecutionStateSucceeded:
			if qe.QueryExecutionId == nil {
				qe.QueryExecutionId = aws.String(id)
			}
			return qe, nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return nil, queryError(id, qe.Status)
		case types.QueryExecutionStateQueued, types.QueryExecutionStateRunning:
		default:
			// A state this SDK does not know yet: keep waiting, as for RUNNING.
		}
	}
}

// abandon stops query id, best effort, and returns cause. The stop uses a
// context of its own: the caller's is typically the one that is done.
func (c *Client) abandon(ctx context.Context, id string, cause error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		cause = fmt.Errorf("athena: query %s: %w", id, cause)
	}
	if _, err := c.api.StopQueryExecution(sctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)}); err != nil {
		return errors.Join(cause, fmt.Errorf("the query may still be running: %w", explain("stop query "+id, err)))
	}
	return cause
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// QueryError is a query that Athena ran and that failed or was cancelled.
// Its message is Athena's StateChangeReason:
//
//	athena: query failed: SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved
type QueryError struct {
	ID     string // the query execution id
	State  string // FAILED or CANCELLED
	Reason string // Athena's StateChangeReason
	// Athena's error classification, when it gives one: category 1 system,
	// 2 user, 3 other; the type is a finer code (Athena error catalog).
	Category, Type int32
	Retryable      bool
}

func (e *QueryError) Error() string {
	verb := "failed"
	if e.State == string(types.QueryExecutionStateCancelled) {
		verb = "cancelled"
	}
	reason := e.Reason
	if reason == "" {
		reason = "no reason given (query execution " + e.ID + ")"
	}
	return "athena: query " + verb + ": " + reason
}

func queryError(id string, s *types.QueryExecutionStatus) *QueryError {
	e := &QueryError{ID: id, State: string(s.State), Reason: aws.ToString(s.StateChangeReason)}
	if ae := s.AthenaError; ae != nil {
		e.Category, e.Type, e.Retryable = aws.ToInt32(ae.ErrorCategory), aws.ToInt32(ae.ErrorType), ae.Retryable
		if e.Reason == "" {
			e.Reason = aws.ToString(ae.ErrorMessage)
		}
	}
	return e
}

// APIError is a failed Athena API call, shown as the operation, Athena's
// error code and message, and a hint for the failures a user can fix. It
// wraps the SDK's error.
type APIError struct {
	Op, Code, Message, Hint string
	Err                     error
}

func (e *APIError) Error() string {
	s := "athena: " + e.Op + ": " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

// explain turns an SDK error into an APIError; other errors (network,
// context) keep the SDK's text.
func explain(op string, err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("athena: %s: %w", op, err)
	}
	e := &APIError{Op: op, Code: api.ErrorCode(), Message: api.ErrorMessage(), Err: err}
	var inv *types.InvalidRequestException
	if errors.As(err, &inv) && inv.AthenaErrorCode != nil {
		e.Code += " " + *inv.AthenaErrorCode
	}
	msg := strings.ToLower(e.Message)
	switch {
	case e.Code == "AccessDeniedException" || e.Code == "AccessDenied":
		e.Hint = "the credentials need athena:StartQueryExecution, athena:GetQueryExecution, athena:GetQueryResults, " +
			"athena:StopQueryExecution and athena:GetTableMetadata on the workgroup; check the identity and role policies and any SCP"
	case e.Code == "UnrecognizedClientException" || e.Code == "InvalidClientTokenId":
		e.Hint = "the credentials are not valid (wrong keys, or the region is not enabled for the account)"
	case e.Code == "ExpiredTokenException" || e.Code == "ExpiredToken":
		e.Hint = "the credentials have expired; refresh the session or SSO login"
	case strings.Contains(msg, "output location"):
		e.Hint = "give an s3:// output location for query results, or use a workgroup that has one"
	case strings.Contains(msg, "workgroup") && (strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist")):
		e.Hint = "check the workgroup name and region"
	}
	return e
}
