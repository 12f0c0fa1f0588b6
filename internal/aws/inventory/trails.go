package inventory

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// trails reads each account's enabled regions and the trails visible in
// each, then the details of every distinct trail once.
func (r *reader) trails(ctx context.Context, ids []string) ([]snapshot.Account, error) {
	accounts := make([]snapshot.Account, len(ids))
	if err := r.each(ctx, "regions", len(ids), func(ctx context.Context, i int) {
		accounts[i] = snapshot.Account{ID: ids[i], Regions: r.regions(ctx, ids[i]), Trails: []snapshot.Trail{}}
	}); err != nil {
		return nil, err
	}
	type cell struct{ account, region string }
	var cells []cell
	for _, a := range accounts {
		for _, rg := range a.Regions {
			cells = append(cells, cell{a.ID, rg})
		}
	}
	var mu sync.Mutex
	seen := map[string]map[string]cttypes.Trail{} // account -> ARN -> trail
	if err := r.each(ctx, "trails", len(cells), func(ctx context.Context, i int) {
		c := cells[i]
		cfg, ok := r.at(ctx, c.account, c.region)
		if !ok {
			return
		}
		out, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			r.fail(err, snapshot.CallError{Account: c.account, Region: c.region, Service: "cloudtrail", Operation: "DescribeTrails"})
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[c.account] == nil {
			seen[c.account] = map[string]cttypes.Trail{}
		}
		for _, t := range out.TrailList {
			seen[c.account][aws.ToString(t.TrailARN)] = t
		}
	}); err != nil {
		return nil, err
	}

	// Each trail once, asked of its owner when we can reach the owner.
	reachable := map[string]bool{}
	for _, id := range ids {
		reachable[id] = true
	}
	where := map[string]string{} // ARN -> account to ask
	for _, id := range ids {
		for arn := range seen[id] {
			owner := arnField(arn, 4)
			switch {
			case reachable[owner]:
				where[arn] = owner
			case where[arn] == "":
				where[arn] = id
			}
		}
	}
	arns := slices.Sorted(maps.Keys(where))
	details := make([]snapshot.Trail, len(arns))
	if err := r.each(ctx, "details", len(arns), func(ctx context.Context, i int) {
		arn := arns[i]
		details[i] = r.trail(ctx, where[arn], seen[where[arn]][arn])
	}); err != nil {
		return nil, err
	}
	byARN := map[string]snapshot.Trail{}
	for i, arn := range arns {
		byARN[arn] = details[i]
	}
	for i := range accounts {
		for _, arn := range slices.Sorted(maps.Keys(seen[accounts[i].ID])) {
			accounts[i].Trails = append(accounts[i].Trails, byARN[arn])
		}
	}
	return accounts, nil
}

// regions are the config's aws.regions, or the regions enabled in the
// account; when those cannot be listed, the home region alone.
func (r *reader) regions(ctx context.Context, id string) []string {
	if len(r.cfg.AWS.Regions) > 0 {
		out := append([]string(nil), r.cfg.AWS.Regions...)
		sort.Strings(out)
		return out
	}
	fallback := []string{r.cfg.HomeRegion}
	cfg, ok := r.at(ctx, id, r.globalRegion())
	if !ok {
		return fallback
	}
	var out []string
	in := &account.ListRegionsInput{RegionOptStatusContains: []accttypes.RegionOptStatus{accttypes.RegionOptStatusEnabled, accttypes.RegionOptStatusEnabledByDefault}}
	for p := account.NewListRegionsPaginator(account.NewFromConfig(cfg), in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail(err, snapshot.CallError{Account: id, Service: "account", Operation: "ListRegions"})
			return fallback
		}
		for _, rg := range page.Regions {
			out = append(out, aws.ToString(rg.RegionName))
		}
	}
	sort.Strings(out)
	return out
}

// trail reads one trail's configuration, status and selectors in its home
// region. listed is what DescribeTrails said, kept if GetTrail fails.
func (r *reader) trail(ctx context.Context, acct string, listed cttypes.Trail) snapshot.Trail {
	arn := aws.ToString(listed.TrailARN)
	region := aws.ToString(listed.HomeRegion)
	if region == "" {
		region = arnField(arn, 3)
	}
	t := fromTrail(listed)
	cfg, ok := r.at(ctx, acct, region)
	if !ok {
		return t
	}
	c := cloudtrail.NewFromConfig(cfg)
	ce := func(op string) snapshot.CallError {
		return snapshot.CallError{Account: acct, Region: region, Service: "cloudtrail", Operation: op, Resource: arn}
	}
	if got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)}); err != nil {
		r.fail(err, ce("GetTrail"))
	} else if got.Trail != nil {
		t = fromTrail(*got.Trail)
	}
	if st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)}); err != nil {
		r.fail(err, ce("GetTrailStatus"))
	} else {
		t.Status = &snapshot.TrailStatus{IsLogging: aws.ToBool(st.IsLogging),
			LatestDeliveryError: aws.ToString(st.LatestDeliveryError), LatestDigestDeliveryError: aws.ToString(st.LatestDigestDeliveryError),
			LatestDeliveryTime: utc(st.LatestDeliveryTime), LatestDigestDeliveryTime: utc(st.LatestDigestDeliveryTime),
			LatestCloudWatchLogsDeliveryTime: utc(st.LatestCloudWatchLogsDeliveryTime), LatestCloudWatchLogsDeliveryError: aws.ToString(st.LatestCloudWatchLogsDeliveryError)}
	}
	if sel, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)}); err != nil {
		r.fail(err, ce("GetEventSelectors"))
	} else {
		t.EventSelectors, t.AdvancedEventSelectors = eventSelectors(sel.EventSelectors), advancedSelectors(sel.AdvancedEventSelectors)
	}
	if t.HasInsightSelectors {
		ins, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String(arn)})
		switch {
		case isCode(err, "InsightNotEnabledException"):
		case err != nil:
			r.fail(err, ce("GetInsightSelectors"))
		default:
			for _, s := range ins.InsightSelectors {
				t.InsightTypes = append(t.InsightTypes, string(s.InsightType))
			}
			sort.Strings(t.InsightTypes)
		}
	}
	return t
}

func fromTrail(t cttypes.Trail) snapshot.Trail {
	return snapshot.Trail{ARN: aws.ToString(t.TrailARN), Name: aws.ToString(t.Name), HomeRegion: aws.ToString(t.HomeRegion),
		S3BucketName: aws.ToString(t.S3BucketName), S3KeyPrefix: aws.ToString(t.S3KeyPrefix), IsMultiRegion: aws.ToBool(t.IsMultiRegionTrail),
		IsOrganization: aws.ToBool(t.IsOrganizationTrail), IncludeGlobalServiceEvents: aws.ToBool(t.IncludeGlobalServiceEvents),
		LogFileValidationEnabled: aws.ToBool(t.LogFileValidationEnabled), KMSKeyID: aws.ToString(t.KmsKeyId),
		CloudWatchLogsLogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleARN:     aws.ToString(t.CloudWatchLogsRoleArn), HasInsightSelectors: aws.ToBool(t.HasInsightSelectors)}
}

func eventSelectors(in []cttypes.EventSelector) []snapshot.EventSelector {
	var out []snapshot.EventSelector
	for _, s := range in {
		es := snapshot.EventSelector{ReadWriteType: string(s.ReadWriteType), IncludeManagementEvents: aws.ToBool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: nilIfEmpty(s.ExcludeManagementEventSources)}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, snapshot.DataResource{Type: aws.ToString(d.Type), Values: nilIfEmpty(d.Values)})
		}
		out = append(out, es)
	}
	return out
}

func advancedSelectors(in []cttypes.AdvancedEventSelector) []snapshot.AdvancedEventSelector {
	var out []snapshot.AdvancedEventSelector
	for _, s := range in {
		a := snapshot.AdvancedEventSelector{Name: aws.ToString(s.Name), FieldSelectors: []snapshot.FieldSelector{}}
		for _, f := range s.FieldSelectors {
			a.FieldSelectors = append(a.FieldSelectors, snapshot.FieldSelector{Field: aws.ToString(f.Field),
				Equals: nilIfEmpty(f.Equals), NotEquals: nilIfEmpty(f.NotEquals), StartsWith: nilIfEmpty(f.StartsWith),
				NotStartsWith: nilIfEmpty(f.NotStartsWith), EndsWith: nilIfEmpty(f.EndsWith), NotEndsWith: nilIfEmpty(f.NotEndsWith)})
		}
		out = append(out, a)
	}
	return out
}

// nilIfEmpty keeps "absent" and "empty" the same, so equal configurations
// give equal snapshots whichever way AWS sent them.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// arnField is the i-th colon-separated field of an ARN, "" if absent.
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 6)
	if i < len(f) {
		return f[i]
	}
	return ""
}
