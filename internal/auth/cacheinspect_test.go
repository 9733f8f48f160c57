package auth

import (
	"sort"
	"testing"
	"time"
)

func TestAuthzCacheInspect(t *testing.T) {
	a := newACL(t, PermDeny, allow(WhoAll, ActAll, "t/#"))
	c, other := client("u", "c1", ""), client("u", "c2", "")
	before := time.Now()
	a.Authorize(c, pub, "t/1", 1, false)
	a.Authorize(c, pub, "x", 0, false)
	a.Authorize(c, sub, "$share/g/t/+", 1, false)
	a.Authorize(other, pub, "t/2", 0, false)
	list := a.AuthzCache("c1")
	sort.Slice(list, func(i, j int) bool { return list[i].Topic < list[j].Topic })
	if len(list) != 3 {
		t.Fatalf("entries %+v", list)
	}
	want := []struct {
		action, topic string
		allowed       bool
	}{{"subscribe", "t/+", true}, {"publish", "t/1", true}, {"publish", "x", false}}
	for i, w := range want {
		e := list[i]
		if e.Action != w.action || e.Topic != w.topic || e.Allowed != w.allowed || e.UpdatedAt.Before(before) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	a.ClearAuthzCache("c1")
	if list := a.AuthzCache("c1"); len(list) != 0 {
		t.Fatalf("after clear: %+v", list)
	}
	if list := a.AuthzCache("c2"); len(list) != 1 {
		t.Fatalf("another client's entries: %+v", list)
	}
	if err := a.SetRules([]Rule{allow(WhoAll, ActAll, "#")}); err != nil {
		t.Fatal(err)
	}
	if list := a.AuthzCache("c2"); len(list) != 0 {
		t.Fatalf("entries of old rules listed: %+v", list)
	}
}
