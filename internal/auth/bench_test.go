package auth

import (
	"context"
	"fmt"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// bench20Rules is a 20-rule list whose only match for the benchmark client
// is the last rule, a placeholder rule.
func bench20Rules() []Rule {
	var rules []Rule
	for i := range 6 {
		rules = append(rules, deny(fmt.Sprint("username:banned", i), ActAll, "#"))
	}
	for i := range 6 {
		rules = append(rules, allow(fmt.Sprint("clientid:gw", i), ActPublish, fmt.Sprint("fleet/", i, "/+/telemetry"), "eq cmd/#"))
	}
	for i := range 4 {
		rules = append(rules, allow(fmt.Sprint("ipaddr:10.", i, ".0.0/16"), ActPublish, "site/#"))
	}
	return append(rules,
		deny(WhoAll, ActSubscribe, "$SYS/#", "eq #"),
		allow(WhoAll, ActSubscribe, "devices/%c/cmd/#"),
		deny(WhoAll, ActPublish, "devices/+/cmd/#"),
		allow(WhoAll, ActPublish, "devices/${clientid}/+/data"),
	)
}

func benchACL(b *testing.B, cacheSize int, rules []Rule) *ACL {
	b.Helper()
	a, err := NewACL(ACLConfig{Rules: rules, NoMatch: PermDeny, CacheSize: cacheSize})
	if err != nil {
		b.Fatalf("NewACL: %v", err)
	}
	return a
}

func benchAuthorize(b *testing.B, a *ACL) {
	b.Helper()
	c := client("sensor", "sensor-42", "192.168.0.9:40000")
	const name = "devices/sensor-42/temp/data"
	if !a.Authorize(c, pub, name, 1, false) {
		b.Fatalf("benchmark publish refused")
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Authorize(c, pub, name, 1, false)
	}
}

func BenchmarkAuthzPublishNoRules(b *testing.B) {
	a := benchACL(b, 0, nil)
	c := client("sensor", "sensor-42", "")
	b.ReportAllocs()
	for b.Loop() {
		a.Authorize(c, pub, "devices/sensor-42/temp/data", 1, false)
	}
}

func BenchmarkAuthzPublish20Rules(b *testing.B) {
	b.Run("cached", func(b *testing.B) { benchAuthorize(b, benchACL(b, 0, bench20Rules())) })
	b.Run("uncached", func(b *testing.B) { benchAuthorize(b, benchACL(b, -1, bench20Rules())) })
	b.Run("cached-parallel", func(b *testing.B) {
		a := benchACL(b, 0, bench20Rules())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			c := client("sensor", "sensor-42", "192.168.0.9:40000")
			for pb.Next() {
				a.Authorize(c, pub, "devices/sensor-42/temp/data", 1, false)
			}
		})
	})
}

func BenchmarkAuthUsersBcrypt(b *testing.B) {
	h, _, err := HashPassword(AlgBcrypt, "s3cret")
	if err != nil {
		b.Fatalf("HashPassword: %v", err)
	}
	for _, size := range []int{0, -1} {
		b.Run(map[int]string{0: "cached", -1: "uncached"}[size], func(b *testing.B) {
			u, err := NewUsers(UsersConfig{Users: []User{{Username: "u", Algorithm: AlgBcrypt, PasswordHash: h}}, CacheSize: size})
			if err != nil {
				b.Fatalf("NewUsers: %v", err)
			}
			req := &broker.AuthRequest{Client: &broker.ClientInfo{Username: "u"}, Password: []byte("s3cret"), HasPass: true}
			for b.Loop() {
				if err := u.Authenticate(context.Background(), req); err != nil {
					b.Fatalf("Authenticate: %v", err)
				}
			}
		})
	}
}
