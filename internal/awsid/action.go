package awsid

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// servicePrefixes are IAM service prefixes (the part of an action before
// the colon), from the Service Authorization Reference: the services
// trailwarden's policies and audits name, and the ones most policies do.
// The list is for spotting typing mistakes, not the whole of IAM: a prefix
// that is neither on it nor near one of it is taken as written.
var servicePrefixes = []string{
	"access-analyzer", "account", "acm", "acm-pca", "airflow", "amplify", "aoss", "apigateway", "app-integrations",
	"appconfig", "appflow", "application-autoscaling", "appmesh", "apprunner", "appstream", "appsync", "aps",
	"athena", "auditmanager", "autoscaling", "aws-marketplace", "aws-portal", "backup", "batch", "bedrock",
	"billing", "budgets", "ce", "chatbot", "cleanrooms", "cloud9", "cloudformation", "cloudfront", "cloudhsm",
	"cloudshell", "cloudtrail", "cloudtrail-data", "cloudwatch", "codeartifact", "codebuild", "codecommit",
	"codeconnections", "codedeploy", "codeguru", "codepipeline", "codestar-connections", "cognito-identity",
	"cognito-idp", "cognito-sync", "comprehend", "config", "connect", "cur", "databrew", "datasync", "dax",
	"detective", "devicefarm", "directconnect", "dlm", "dms", "ds", "dynamodb", "ebs", "ec2", "ec2messages",
	"ecr", "ecr-public", "ecs", "eks", "elasticache", "elasticbeanstalk", "elasticfilesystem",
	"elasticloadbalancing", "elasticmapreduce", "emr-containers", "emr-serverless", "es", "events",
	"execute-api", "firehose", "fis", "fms", "forecast", "freetier", "fsx", "glacier", "globalaccelerator",
	"glue", "grafana", "greengrass", "guardduty", "health", "iam", "identitystore", "imagebuilder",
	"inspector", "inspector2", "iot", "iotevents", "iotsitewise", "ivs", "kafka", "kafka-cluster", "kendra",
	"kinesis", "kinesisanalytics", "kinesisvideo", "kms", "lakeformation", "lambda", "lex", "license-manager",
	"lightsail", "logs", "macie2", "mediaconvert", "medialive", "mediapackage", "mediastore", "memorydb",
	"mgn", "mq", "network-firewall", "networkmanager", "notifications", "oam", "organizations", "outposts",
	"personalize", "pi", "pipes", "polly", "pricing", "q", "qbusiness", "quicksight", "ram", "rds", "rds-data",
	"rds-db", "redshift", "redshift-data", "redshift-serverless", "rekognition", "resource-explorer-2",
	"resource-groups", "rolesanywhere", "route53", "route53domains", "route53resolver", "rum", "s3",
	"s3-object-lambda", "s3-outposts", "s3express", "s3tables", "sagemaker", "savingsplans", "scheduler",
	"schemas", "sdb", "secretsmanager", "securityhub", "securitylake", "serverlessrepo", "servicecatalog",
	"servicediscovery", "servicequotas", "ses", "shield", "signer", "sms-voice", "sns", "sqs", "ssm",
	"ssm-contacts", "ssm-incidents", "ssmmessages", "sso", "sso-directory", "sso-oauth", "states",
	"storagegateway", "sts", "support", "swf", "synthetics", "tag", "textract", "timestream", "transcribe",
	"transfer", "translate", "trustedadvisor", "vpc-lattice", "waf", "waf-regional", "wafv2",
	"wellarchitected", "workspaces", "xray", "s3control",
}

var (
	actionRe = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)
	prefixRe = regexp.MustCompile(`^[a-z0-9-]+$`)
)

// Action checks an action a request names: service:Name, a service prefix
// of lower-case letters, digits and hyphens, a name of letters and digits
// (no wildcards: a request is one action). A malformed action, or a prefix
// near a known one but not it, says what was probably meant:
// s3GetObject, "did you mean s3:GetObject?".
func Action(a string) error {
	bad := func(why string) error {
		if s := suggestAction(a); s != "" && s != a {
			return fmt.Errorf("%q is not an IAM action: %s; did you mean %s?", a, why, s)
		}
		return fmt.Errorf("%q is not an IAM action: %s", a, why)
	}
	prefix, name, ok := strings.Cut(a, ":")
	switch {
	case !ok:
		return bad("an action is service:Name, such as s3:GetObject")
	case strings.ContainsAny(name, "*?"):
		return bad("a request names one action, without wildcards")
	case !actionRe.MatchString(a):
		return bad("an action is service:Name: a service prefix of lower-case letters, digits and hyphens, and a name of letters and digits, such as s3:GetObject")
	case !slices.Contains(servicePrefixes, prefix) && Suggest(prefix, servicePrefixes) != "":
		return bad(fmt.Sprintf("%q is not an IAM service prefix", prefix))
	}
	return nil
}

// KnownServicePrefix says whether prefix is on trailwarden's list of IAM
// service prefixes.
func KnownServicePrefix(prefix string) bool { return slices.Contains(servicePrefixes, prefix) }

// suggestAction guesses the action meant: a known prefix with the colon
// left out or mistyped, the prefix in the wrong case, or a mistyped one.
func suggestAction(a string) string {
	prefix, name, ok := strings.Cut(a, ":")
	if !ok {
		// s3GetObject: the longest known prefix the value starts with,
		// followed by a capital letter.
		best := ""
		for _, p := range servicePrefixes {
			if len(p) > len(best) && len(a) > len(p) && strings.EqualFold(a[:len(p)], p) && a[len(p)] >= 'A' && a[len(p)] <= 'Z' {
				best = p
			}
		}
		if best == "" {
			return ""
		}
		return best + ":" + a[len(best):]
	}
	name = strings.Trim(name, " ")
	if name == "" || !prefixRe.MatchString(strings.ToLower(prefix)) {
		return ""
	}
	if p := Suggest(strings.ToLower(prefix), servicePrefixes); p != "" {
		return p + ":" + name
	}
	return strings.ToLower(prefix) + ":" + name
}
