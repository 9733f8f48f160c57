package v5

import "github.com/herald-mqtt/herald/internal/service"

// PagedMeta is the meta part of a paged list (count left out when the
// list was not counted).
type PagedMeta struct {
	Page    int  `json:"page"`
	Limit   int  `json:"limit"`
	Count   *int `json:"count,omitempty"`
	HasNext bool `json:"hasnext"`
}

// PagedList is EMQX's paged list: {data, meta}.
type PagedList[T any] struct {
	Data []T       `json:"data"`
	Meta PagedMeta `json:"meta"`
}

// pagedList converts a service page with conv.
func pagedList[T, U any](p service.Page[T], conv func(*T) U) PagedList[U] {
	out := PagedList[U]{Data: make([]U, len(p.Items)), Meta: PagedMeta{Page: p.Page, Limit: p.Limit, HasNext: p.HasNext}}
	if p.HasCount {
		n := p.Count
		out.Meta.Count = &n
	}
	for i := range p.Items {
		out.Data[i] = conv(&p.Items[i])
	}
	return out
}

// PageParams are the paging query parameters.
type PageParams struct {
	Page  int `query:"page" description:"Page number of the results to fetch." default:"1" minimum:"1" maximum:"2147483647"`
	Limit int `query:"limit" description:"Results per page (max 10000)." default:"100" minimum:"1" maximum:"10000"`
}
