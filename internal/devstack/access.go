package devstack

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// tableAccess records what each function does in the pipeline's tables.
// moto enforces no IAM policy, so a function that needs an action the CDK
// stack does not grant it would work here and fail in the cloud: the
// end-to-end tests compare this record with resources.Functions, from which
// the stack grants.
type tableAccess struct {
	mu   sync.Mutex
	seen map[string]map[string]map[string]bool // function, table, action
}

type functionKey struct{}

// withFunction marks ctx as the context of one of the pipeline's functions,
// whose calls are then recorded. Calls of the stack itself (provisioning,
// demo data) and of tests or operators are not.
func withFunction(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, functionKey{}, name)
}

// record is an SDK option that notes every DynamoDB call made in a
// function's context, before it is sent.
func (a *tableAccess) record(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordTableAccess",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if fn, ok := ctx.Value(functionKey{}).(string); ok {
				for _, u := range tableUses(in.Parameters) {
					a.add(fn, u.table, u.action)
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (a *tableAccess) add(fn, table, action string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]map[string]map[string]bool{}
	}
	if a.seen[fn] == nil {
		a.seen[fn] = map[string]map[string]bool{}
	}
	if a.seen[fn][table] == nil {
		a.seen[fn][table] = map[string]bool{}
	}
	a.seen[fn][table][action] = true
}

type tableUse struct{ table, action string }

// unknownTable stands for the table of a DynamoDB call this record does not
// know how to read: no grant names it, so it is reported.
const unknownTable = "?"

// tableUses are the IAM actions a DynamoDB call needs, by table. A
// transaction needs its items' actions; it has no action of its own.
func tableUses(params any) []tableUse {
	one := func(table *string, action string) []tableUse {
		return []tableUse{{aws.ToString(table), "dynamodb:" + action}}
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return one(in.TableName, "GetItem")
	case *dynamodb.PutItemInput:
		return one(in.TableName, "PutItem")
	case *dynamodb.UpdateItemInput:
		return one(in.TableName, "UpdateItem")
	case *dynamodb.DeleteItemInput:
		return one(in.TableName, "DeleteItem")
	case *dynamodb.QueryInput:
		return one(in.TableName, "Query")
	case *dynamodb.ScanInput:
		return one(in.TableName, "Scan")
	case *dynamodb.DescribeTableInput:
		return one(in.TableName, "DescribeTable")
	case *dynamodb.BatchGetItemInput:
		var uses []tableUse
		for table := range in.RequestItems {
			uses = append(uses, tableUse{table, "dynamodb:BatchGetItem"})
		}
		return uses
	case *dynamodb.BatchWriteItemInput:
		var uses []tableUse
		for table := range in.RequestItems {
			uses = append(uses, tableUse{table, "dynamodb:BatchWriteItem"})
		}
		return uses
	case *dynamodb.TransactGetItemsInput:
		var uses []tableUse
		for _, it := range in.TransactItems {
			if it.Get != nil {
				uses = append(uses, one(it.Get.TableName, "GetItem")...)
			}
		}
		return uses
	case *dynamodb.TransactWriteItemsInput:
		var uses []tableUse
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				uses = append(uses, one(it.Put.TableName, "PutItem")...)
			case it.Update != nil:
				uses = append(uses, one(it.Update.TableName, "UpdateItem")...)
			case it.Delete != nil:
				uses = append(uses, one(it.Delete.TableName, "DeleteItem")...)
			case it.ConditionCheck != nil:
				uses = append(uses, one(it.ConditionCheck.TableName, "ConditionCheckItem")...)
			}
		}
		return uses
	}
	if t := reflect.TypeOf(params); t != nil && t.Kind() == reflect.Pointer && t.Elem().PkgPath() == reflect.TypeFor[dynamodb.GetItemInput]().PkgPath() {
		return []tableUse{{unknownTable, "dynamodb:" + t.Elem().Name()}}
	}
	return nil
}

// TableAccess returns, by function, what it did in the pipeline's tables
// (by resources.Table ID, or "?" for a call not understood): the actions
// IAM would have to allow, sorted. The company's tables are left out; the
// registry grants them.
func (s *Stack) TableAccess() map[string]map[string][]string {
	s.access.mu.Lock()
	defer s.access.mu.Unlock()
	ids := map[string]string{unknownTable: unknownTable}
	for _, t := range resources.Tables {
		ids[tableName(t)] = t.ID
	}
	out := map[string]map[string][]string{}
	for fn, tables := range s.access.seen {
		for table, actions := range tables {
			id, ok := ids[table]
			if !ok {
				continue
			}
			if out[fn] == nil {
				out[fn] = map[string][]string{}
			}
			for a := range actions {
				out[fn][id] = append(out[fn][id], a)
			}
			slices.Sort(out[fn][id])
		}
	}
	return out
}
