package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBinaryKind(t *testing.T) {
	pe := make([]byte, 0x80)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x40)
	copy(pe[0x40:], "PE\x00\x00")
	for _, c := range []struct {
		name, data, want string
	}{
		{"elf", "\x7fELF\x02\x01\x01", "ELF"},
		{"mach-o 64", "\xcf\xfa\xed\xfe\x07\x00", "Mach-O"},
		{"mach-o universal", "\xca\xfe\xba\xbe", "universal"},
		{"wasm", "\x00asm\x01\x00\x00\x00", "WebAssembly"},
		{"ar", "!<arch>\n__.PKGDEF", "ar archive"},
		{"pe", string(pe), "PE"},
		{"text starting MZ", "MZ is not a program, just text long enough to have an offset at 0x3c ...", ""},
		{"short MZ", "MZ", ""},
		{"text", "package main\n", ""},
		{"empty", "", ""},
		{"gzip", "\x1f\x8b\x08\x00", ""},
	} {
		got := binaryKind(strings.NewReader(c.data))
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%s: binaryKind = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestInTestdata(t *testing.T) {
	for path, want := range map[string]bool{
		"testdata/a.bin": true, "verify/testdata/x/y": true,
		"mytestdata/a": false, "testdata": false, "a/testdata.go": false,
	} {
		if got := inTestdata(path); got != want {
			t.Errorf("inTestdata(%q) = %v", path, got)
		}
	}
}

// TestRepository runs the check on a repository with one file of each
// problem and some that are fine, and expects exactly the bad ones.
func TestRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("x"), MaxBytes+1)
	write("cmd/prog.test", []byte("\x7fELF\x02\x01\x01\x00rest"))
	write("big.txt", big)
	write("pkg/testdata/big.txt", big)
	write("ok.go", []byte("package ok\n"))
	write("deleted.txt", []byte("\x7fELF"))
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "--", ".")
	if err := os.Symlink("cmd/prog.test", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	git("add", "--", "link")
	if err := os.Remove(filepath.Join(dir, "deleted.txt")); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--stage", "--").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var got []string
	for _, e := range parseStage(out) {
		got = append(got, check(e)...)
	}
	want := []string{
		"big.txt is 1048577 bytes, over 1 MiB",
		"cmd/prog.test is an ELF binary",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
}
