package service

import "slices"

// Paging limits, as EMQX's.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// PageQuery asks for one page of a list: Page is 1-based.
type PageQuery struct {
	Page  int
	Limit int
}

// Valid reports whether the page and limit are in range.
func (q PageQuery) Valid() bool { return q.Page >= 1 && q.Limit >= 1 && q.Limit <= MaxLimit }

// Page is one page of a list. Count is the number of matches over every
// node; HasCount is false when a fuzzy filter made counting not worth it
// (EMQX then omits meta.count).
type Page[T any] struct {
	Items    []T
	Page     int
	Limit    int
	Count    int
	HasCount bool
	HasNext  bool
}

// paginate cuts one page out of the merged, sorted matches of every node.
func paginate[T any](all []T, q PageQuery, counted bool) Page[T] {
	p := Page[T]{Page: q.Page, Limit: q.Limit, Count: len(all), HasCount: counted, Items: []T{}}
	start := (q.Page - 1) * q.Limit
	if start >= len(all) {
		return p
	}
	end := min(start+q.Limit, len(all))
	p.Items = slices.Clone(all[start:end])
	p.HasNext = end < len(all)
	return p
}
