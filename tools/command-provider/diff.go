package main

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// replaceKeys are the inputs whose change replaces the resource (as upstream: `triggers` only). Every other
// input change is an in-place update that runs `update` (or `create` when `update` is unset).
var replaceKeys = map[string]bool{pTriggers: true}

// diffResult is the plain outcome of comparing old and new inputs.
type diffResult struct {
	Changed  []string                               // sorted input names that differ
	Replaces []string                               // sorted subset that forces a replacement
	Detailed map[string]*pulumirpc.PropertyDiff     // per-property kinds for the engine's display
	kinds    map[string]pulumirpc.PropertyDiff_Kind // (same, for tests)
}

// computeDiff compares old inputs (or old state) with new inputs over the known input keys.
// A secret wrapper alone never counts as a change; an unknown new value always does.
func computeDiff(olds, news resource.PropertyMap) diffResult {
	res := diffResult{Detailed: map[string]*pulumirpc.PropertyDiff{}, kinds: map[string]pulumirpc.PropertyDiff_Kind{}}
	for _, key := range inputKeys {
		pk := resource.PropertyKey(key)
		o, hasOld := olds[pk]
		n, hasNew := news[pk]
		hasOld = hasOld && !o.IsNull()
		hasNew = hasNew && !n.IsNull()
		var kind pulumirpc.PropertyDiff_Kind
		switch {
		case !hasOld && !hasNew:
			continue
		case !hasOld:
			kind = pulumirpc.PropertyDiff_ADD
		case !hasNew:
			kind = pulumirpc.PropertyDiff_DELETE
		case n.ContainsUnknowns():
			kind = pulumirpc.PropertyDiff_UPDATE
		case equalIgnoringSecrets(o, n):
			continue
		default:
			kind = pulumirpc.PropertyDiff_UPDATE
		}
		if replaceKeys[key] {
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
			res.Replaces = append(res.Replaces, key)
		}
		res.Changed = append(res.Changed, key)
		res.Detailed[key] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
		res.kinds[key] = kind
	}
	sort.Strings(res.Changed)
	sort.Strings(res.Replaces)
	return res
}

// toResponse renders the diff for the engine.
func (d diffResult) toResponse() *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff: true,
		DetailedDiff:    d.Detailed,
		Diffs:           d.Changed,
		Replaces:        d.Replaces,
	}
	if len(d.Changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp
}

// stripSecrets returns v with every secret wrapper removed (deeply).
func stripSecrets(v resource.PropertyValue) resource.PropertyValue {
	v, _ = unwrap(v)
	switch {
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = stripSecrets(e)
		}
		return resource.NewProperty(arr)
	case v.IsObject():
		obj := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			obj[k] = stripSecrets(e)
		}
		return resource.NewProperty(obj)
	default:
		return v
	}
}

func equalIgnoringSecrets(a, b resource.PropertyValue) bool {
	return stripSecrets(a).DeepEquals(stripSecrets(b))
}
