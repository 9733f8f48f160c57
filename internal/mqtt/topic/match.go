package topic

// Match reports whether the topic name matches the topic filter. Both are
// assumed valid. Names starting with '$' are not matched by a filter whose
// first level is a wildcard [MQTT-4.7.2-1].
func Match(filter, name string) bool {
	if len(name) > 0 && name[0] == '$' && len(filter) > 0 && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := cut(filter)
		if fl == "#" {
			return true // also matches the parent level (MQTT 5.0 section 4.7.1.2)
		}
		nl, nrest, nmore := cut(name)
		if fl != "+" && fl != nl {
			return false
		}
		if !fmore || !nmore {
			if !fmore && !nmore {
				return true
			}
			// "a/#" matches "a": the filter has one more level, and it is '#'.
			return fmore && !nmore && frest == "#"
		}
		filter, name = frest, nrest
	}
}

// cut splits s at its first '/': the level, the rest, and whether a '/' was found.
func cut(s string) (level, rest string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
