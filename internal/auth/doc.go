// Package auth is Herald's built-in authentication and authorization: a user
// list checked against stored password hashes (Users, a broker.Authenticator)
// and an ordered access-control list (ACL, a broker.Authorizer). Both follow
// EMQX 5's built-in database authenticator and file authorizer, so an EMQX
// user export and acl.conf translate one to one.
//
// # Authentication (Users)
//
// A CONNECT is decided as follows, in this order:
//
//  1. An Authentication Method (MQTT 5 enhanced authentication) is refused
//     with BadAuthenticationMethod: Users only checks passwords (MQTT 5
//     section 4.12 lets a server refuse a method it does not support).
//  2. No username (or an empty one): accepted when AllowAnonymous is true,
//     otherwise refused with NotAuthorized (0x87, v3 return code 0x05). This
//     is what EMQX 5 answers when a chain is configured and every
//     authenticator ignores the client (emqx_authn_mnesia ignores a client
//     without credentials; an exhausted chain ends in not_authorized).
//  3. An empty user list means "no authenticator configured": every client is
//     accepted when AllowAnonymous is true (EMQX 5's default empty chain
//     allows all logins) and refused with NotAuthorized otherwise.
//  4. A username that is not in the list, a known user without a password and
//     a known user with the wrong password are all refused with
//     BadUsernameOrPassword (0x86, v3 0x04). EMQX answers not_authorized for
//     an unknown user; Herald answers the same code for both so the result
//     does not reveal which usernames exist (its timing still may: an
//     unknown user costs no hashing).
//  5. A correct password accepts the client and copies the user's superuser
//     flag to ClientInfo.Superuser (superusers bypass the ACL).
//
// Stored hashes use EMQX's formats (emqx_passwd.erl): "plain" (the salted
// password itself), "sha256"/"sha512" (lower- or upper-case hex of
// hash(salt+password) or hash(password+salt)), "pbkdf2" (hex of
// PBKDF2-HMAC(mac, password, salt, iterations, dk_length)) and "bcrypt" (the
// modular-crypt string $2a$/$2b$/$2y$, salt included). The salt is used as
// text, byte for byte, as EMQX does. Every comparison is constant-time.
//
// Bcrypt and PBKDF2 are slow by design, so a reconnect storm of thousands of
// clients would burn seconds of CPU each. Users therefore remembers successful
// verifications of slow hashes: the key is HMAC-SHA256 under a random
// per-process secret of (username, password), so the cache holds neither
// passwords nor anything an offline attacker could test guesses against
// without the secret. Only successes are cached (a wrong password always pays
// the full cost), the cache is bounded (UsersConfig.CacheSize entries, an
// arbitrary entry is dropped when full) and it lives as long as the Users
// value: a changed user list means a new Users and an empty cache.
//
// # Authorization (ACL)
//
// Rules are evaluated in order and the first rule whose action, principal
// (Who) and one of whose topics match decides; ACLConfig.NoMatch decides when
// none matches; a client whose ClientInfo.Superuser is set is always allowed.
// The semantics are those of EMQX's emqx_authz_rule.erl (match/4,
// match_topics/3, match_topic/2):
//
//   - Publish: the rule topic is a filter matched against the topic name.
//   - Subscribe: the rule topic is matched against the requested filter as if
//     that filter were a name, level by level: a rule level '+' matches any
//     one requested level (including a requested '+'), a rule '#' matches the
//     rest, a literal matches only the same literal. So rule "t/#" allows
//     subscribing to "t/a", "t/+" and "t/#"; rule "t/a" does not allow "t/+".
//     One deliberate difference: in an allow rule a '+' level does not match
//     a requested '#' (EMQX lets rule "t/+" grant "t/#", which receives more
//     than the rule names); in a deny rule it does, as in EMQX, so deny
//     rules stay at least as strict.
//   - "eq <filter>" matches only that exact string, which is how a rule
//     denies subscribing to "#" itself without denying everything.
//   - Wildcards in rules also match topics starting with '$' (EMQX matches
//     rule words, so [MQTT-4.7.2-1] does not apply to authorization): a
//     deny rule on "#" covers $SYS too.
//   - Shared subscriptions are authorized on their real filter:
//     "$share/<group>/t/#" and "$queue/t/#" are checked as "t/#" (EMQX
//     emqx_channel authorizes emqx_topic:get_shared_real_topic/1).
//   - Placeholders %u / ${username}, %c / ${clientid} and %C /
//     ${cert_common_name} are replaced by the client's values. A topic whose
//     placeholder value is empty, or contains '/', '+' or '#', does not match
//     (EMQX's render_topic fails and the topic is skipped; topic_template_allow
//     defaults to false for all three), so an anonymous client never matches
//     "t/%u" and a username cannot smuggle wildcards into a rule.
//   - Optional QoS and Retain conditions narrow a rule (EMQX 5 rich actions);
//     Retain applies to publish only.
//
// Authorize is on the PUBLISH hot path. Rules are compiled once (topics split
// into levels, placeholders located, CIDRs parsed), so evaluation never
// allocates. With no rules the answer is a constant. Results are cached in a
// fixed-size, direct-mapped table keyed by (ClientInfo pointer, topic,
// action, QoS, retain): two string hashes, one atomic pointer load and a few
// comparisons on a hit, no locks, no allocation. An entry records the rule-set generation it
// was computed under; SetRules installs a new compiled set with the next
// generation, which invalidates every cached result at once. Unlike EMQX's
// per-client cache there is no TTL: the rules only change through SetRules,
// so a generation check is exact, and a collision or a newer result simply
// replaces the slot. The cache keeps the ClientInfo it was asked about
// alive until the slot is reused, which also makes the pointer a safe
// identity; it copies the topic, never retaining the caller's memory.
package auth
