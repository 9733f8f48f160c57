package metastore

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "mgmt"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]int
	if ok, err := s.Load("doc", &v); ok || err != nil {
		t.Fatalf("missing doc: ok=%v err=%v", ok, err)
	}
	if err := s.Save("doc", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(filepath.Join(dir, "mgmt"))
	if ok, err := s2.Load("doc", &v); !ok || err != nil || v["a"] != 1 {
		t.Fatalf("load: ok=%v err=%v v=%v", ok, err, v)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "mgmt"))
	if len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestLoadCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if err := os.WriteFile(filepath.Join(dir, "doc.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v map[string]int
	if _, err := s.Load("doc", &v); err == nil {
		t.Fatal("corrupt document loaded without error")
	}
}
