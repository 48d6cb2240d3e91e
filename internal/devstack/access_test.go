package devstack

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestTableUses: a call is recorded as the IAM actions it needs on each
// table; a call the record cannot read is reported against no known table,
// so the check fails rather than passing it over.
func TestTableUses(t *testing.T) {
	tests := []struct {
		name   string
		params any
		want   []string
	}{
		{"get", &dynamodb.GetItemInput{TableName: aws.String("dsr-requests")}, []string{"dsr-requests dynamodb:GetItem"}},
		{"query on an index", &dynamodb.QueryInput{TableName: aws.String("dsr-requests"), IndexName: aws.String("by-status")}, []string{"dsr-requests dynamodb:Query"}},
		{"a transaction across tables", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("dsr-requests")}},
			{Put: &types.Put{TableName: aws.String("dsr-audit")}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("dsr-receipts")}},
		}}, []string{"dsr-audit dynamodb:PutItem", "dsr-receipts dynamodb:ConditionCheckItem", "dsr-requests dynamodb:PutItem"}},
		{"a batch", &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"dsr-audit": nil}}, []string{"dsr-audit dynamodb:BatchWriteItem"}},
		{"a call not understood", &dynamodb.ExecuteStatementInput{}, []string{"? dynamodb:ExecuteStatementInput"}},
		{"another service", &s3.GetObjectInput{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, u := range tableUses(tt.params) {
				got = append(got, fmt.Sprintf("%s %s", u.table, u.action))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("uses %v, want %v", got, tt.want)
			}
		})
	}
}
