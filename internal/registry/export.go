package registry

import (
	"fmt"
	"slices"
)

// checkExport makes sure the attributes to export are named once each.
func (v *validator) checkExport(at string, s *Source) {
	for i, f := range s.Export {
		switch {
		case f == "":
			v.fail(fmt.Sprintf("%s.export[%d]", at, i), "name the attribute")
		case slices.Contains(s.Export[:i], f):
			v.fail(fmt.Sprintf("%s.export[%d]", at, i), "attribute %q is listed twice", f)
		}
	}
}

// Exported returns the part of each record that goes into the access
// package: the attributes under Export that the record has, or the whole
// record when Export is empty. The records passed in are not changed.
func (s *Source) Exported(records []map[string]any) []map[string]any {
	if len(s.Export) == 0 {
		return records
	}
	out := make([]map[string]any, len(records))
	for i, rec := range records {
		m := make(map[string]any, len(s.Export))
		for _, f := range s.Export {
			if v, ok := rec[f]; ok {
				m[f] = v
			}
		}
		out[i] = m
	}
	return out
}
