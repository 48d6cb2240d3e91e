package devstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/statemachines"
)

// Local names: the pipeline's own resources carry this prefix, the demo
// company's carry "demo-".
const (
	namePrefix = "dsr-"
	accountID  = "123456789012"
)

func tableName(t resources.Table) string   { return namePrefix + t.ID }
func bucketName(b resources.Bucket) string { return namePrefix + b.ID }
func queueName(q resources.Queue) string   { return namePrefix + q.ID }

// QueueURL is the URL of a local queue. moto finds a queue by the last part
// of its URL, whatever the host, so the URL does not depend on moto's port.
func QueueURL(region string, q resources.Queue) string {
	return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, accountID, queueName(q))
}

// FunctionARN is the local ARN of a pipeline function.
func FunctionARN(region, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s%s", region, accountID, namePrefix, name)
}

// StateMachineARN is the local ARN of a state machine.
func StateMachineARN(region string, sm resources.StateMachine) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s%s", region, accountID, namePrefix, sm.ID)
}

// Substitutions fills the ASL placeholders with the local function ARNs.
func Substitutions(region string) map[string]string {
	subs := map[string]string{
		// moto's interpreter runs only STANDARD child workflows.
		resources.ObjectExecutionTypePlaceholder: "STANDARD",
		resources.ExportsBucketPlaceholder:       bucketName(resources.Exports),
	}
	for _, f := range resources.Functions {
		if f.Placeholder() != "" {
			subs[f.Placeholder()] = FunctionARN(region, f.Name)
		}
	}
	return subs
}

type clients struct {
	ddb *dynamodb.Client
	s3  *s3.Client
	ses *sesv2.Client
	sfn *sfn.Client
	kms *kms.Client
	sqs *sqs.Client
}

// provision creates the pipeline's tables, buckets, mail identity and state
// machines from the same definitions the CDK stack deploys.
func provision(ctx context.Context, c clients, region, mailFrom string) error {
	for _, t := range resources.Tables {
		in := &dynamodb.CreateTableInput{
			TableName:            aws.String(tableName(t)),
			BillingMode:          dtypes.BillingModePayPerRequest,
			AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: &t.PartitionKey.Name, AttributeType: dtypes.ScalarAttributeType(t.PartitionKey.Type)}},
			KeySchema:            []dtypes.KeySchemaElement{{AttributeName: &t.PartitionKey.Name, KeyType: dtypes.KeyTypeHash}},
		}
		defined := map[string]bool{t.PartitionKey.Name: true}
		define := func(a resources.Attribute) {
			if !defined[a.Name] {
				defined[a.Name] = true
				in.AttributeDefinitions = append(in.AttributeDefinitions, dtypes.AttributeDefinition{AttributeName: aws.String(a.Name), AttributeType: dtypes.ScalarAttributeType(a.Type)})
			}
		}
		if t.SortKey != nil {
			define(*t.SortKey)
			in.KeySchema = append(in.KeySchema, dtypes.KeySchemaElement{AttributeName: &t.SortKey.Name, KeyType: dtypes.KeyTypeRange})
		}
		for _, ix := range t.Indexes {
			define(ix.PartitionKey)
			define(ix.SortKey)
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, dtypes.GlobalSecondaryIndex{
				IndexName: aws.String(ix.Name),
				KeySchema: []dtypes.KeySchemaElement{
					{AttributeName: aws.String(ix.PartitionKey.Name), KeyType: dtypes.KeyTypeHash},
					{AttributeName: aws.String(ix.SortKey.Name), KeyType: dtypes.KeyTypeRange},
				},
				Projection: &dtypes.Projection{ProjectionType: dtypes.ProjectionTypeAll},
			})
		}
		if _, err := c.ddb.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("table %s: %w", tableName(t), err)
		}
	}
	for _, b := range resources.Buckets {
		in := &s3.CreateBucketInput{Bucket: aws.String(bucketName(b)), ObjectLockEnabledForBucket: aws.Bool(b.Locked)}
		if err := createBucketWith(ctx, c.s3, in, region); err != nil {
			return err
		}
		if b.Locked {
			_, err := c.s3.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
				Bucket: aws.String(bucketName(b)),
				ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
					ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
					Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
						Mode: s3types.ObjectLockRetentionModeCompliance, Years: aws.Int32(resources.AnchorRetentionYears)}},
				},
			})
			if err != nil {
				return fmt.Errorf("bucket %s object lock: %w", bucketName(b), err)
			}
		}
		// SSE-KMS by default, as in the cloud stack (there with the stack's
		// own key; here with the account's AWS managed key).
		_, err := c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: aws.String(bucketName(b)),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms},
				BucketKeyEnabled:                   aws.Bool(true),
			}}},
		})
		if err != nil {
			return fmt.Errorf("bucket %s encryption: %w", bucketName(b), err)
		}
	}
	key, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("Hashes the keys erasure receipts list"),
		KeySpec:     kmstypes.KeySpecHmac256,
		KeyUsage:    kmstypes.KeyUsageTypeGenerateVerifyMac,
	})
	if err != nil {
		return fmt.Errorf("key %s: %w", resources.ReceiptKey.ID, err)
	}
	if _, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(resources.ReceiptKey.Alias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		return fmt.Errorf("key alias %s: %w", resources.ReceiptKey.Alias, err)
	}
	for _, q := range resources.Queues {
		if _, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName(q))}); err != nil {
			return fmt.Errorf("queue %s: %w", queueName(q), err)
		}
	}
	if _, err := c.ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &mailFrom}); err != nil {
		return fmt.Errorf("mail identity: %w", err)
	}
	subs := Substitutions(region)
	for _, sm := range resources.StateMachines {
		raw, err := statemachines.Definition(sm.File)
		if err != nil {
			return err
		}
		def, err := statemachines.Render(raw, subs)
		if err != nil {
			return fmt.Errorf("%s: %w", sm.File, err)
		}
		_, err = c.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(namePrefix + sm.ID),
			Definition: &def,
			RoleArn:    aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s%s", accountID, namePrefix, sm.ID)),
		})
		if err != nil {
			return fmt.Errorf("state machine %s: %w", sm.ID, err)
		}
	}
	return nil
}

func createBucket(ctx context.Context, c *s3.Client, name, region string) error {
	return createBucketWith(ctx, c, &s3.CreateBucketInput{Bucket: &name}, region)
}

func createBucketWith(ctx context.Context, c *s3.Client, in *s3.CreateBucketInput, region string) error {
	name := aws.ToString(in.Bucket)
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("bucket %s: %w", name, err)
	}
	return nil
}
