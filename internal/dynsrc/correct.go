package dynsrc

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Correct sets the attributes in values on each of the subject's items in
// the source and returns how many items it corrected. Each update is
// conditional on the corrected attributes, and the attribute the subject is
// found by, still holding what was read: a concurrent write is never lost,
// the item is read again and corrected as it now is (if it still is the
// subject's).
func (a *Adapter) Correct(ctx context.Context, src *registry.Source, ids map[string][]string, values map[string]string) (int, error) {
	d := src.DynamoDB
	if d == nil {
		return 0, apperr.E(apperr.Invalid, "Only a DynamoDB source can be corrected.")
	}
	items, keyNames, err := a.query(ctx, src, ids)
	if err != nil {
		return 0, err
	}
	for f := range values {
		if slices.Contains(keyNames, f) || f == d.PartitionKey {
			return 0, apperr.E(apperr.Invalid, "An attribute to correct is part of a key; it cannot be corrected by request.")
		}
	}
	corrected := 0
	subject := keyValues(d, ids)
	for _, item := range items {
		key := itemKey(item, keyNames)
		for conflicts := 0; item != nil && holdsSubject(item, d.PartitionKey, subject); conflicts++ {
			if conflicts == maxConflicts {
				return corrected, apperr.E(apperr.Unavailable, "An item kept changing while it was corrected.")
			}
			ok, err := a.setAttributes(ctx, d.Table, key, item, d.PartitionKey, values)
			if err != nil {
				return corrected, err
			}
			if ok {
				corrected++
				break
			}
			if item, err = a.getItem(ctx, d.Table, key); err != nil {
				return corrected, err
			}
		}
	}
	return corrected, nil
}

// setAttributes sets values on the item at key, provided the attributes it
// sets and the subject's attribute still hold what was read. It reports
// false when a concurrent write changed them.
func (a *Adapter) setAttributes(ctx context.Context, table string, key, read map[string]types.AttributeValue, subjectAttr string, values map[string]string) (bool, error) {
	fields := slices.Sorted(maps.Keys(values))
	g := unchanged(read, fields)
	g.names["#subject"], g.values[":subject"] = subjectAttr, read[subjectAttr]
	g.cond = append(g.cond, "#subject = :subject")
	var set []string
	for i, f := range fields {
		g.values[fmt.Sprintf(":n%d", i)] = &types.AttributeValueMemberS{Value: values[f]}
		set = append(set, fmt.Sprintf("%s = :n%d", g.name(i), i))
	}
	return a.conditionalUpdate(ctx, g.update(table, key, "SET "+strings.Join(set, ", ")))
}
