package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// cost is what initialising one package (or a group) took.
type cost struct{ ms, bytes, allocs float64 }

// trace is one run's costs by package.
type trace map[string]cost

// parseTrace reads the runtime's inittrace lines from a program's stderr
// (other lines are ignored). A package initialised twice in one run
// cannot happen; it is an error.
func parseTrace(stderr string) (trace, error) {
	t := trace{}
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "init ") {
			continue
		}
		// init PKG @0.19 ms, 0.033 ms clock, 0 bytes, 0 allocs
		f := strings.Fields(strings.ReplaceAll(line, ",", ""))
		if len(f) != 11 || f[3] != "ms" || f[5] != "ms" || f[6] != "clock" || f[8] != "bytes" || f[10] != "allocs" {
			return nil, fmt.Errorf("unexpected inittrace line %q", line)
		}
		var c cost
		var err error
		if c.ms, err = strconv.ParseFloat(f[4], 64); err != nil {
			return nil, fmt.Errorf("inittrace line %q: %w", line, err)
		}
		if c.bytes, err = strconv.ParseFloat(f[7], 64); err != nil {
			return nil, fmt.Errorf("inittrace line %q: %w", line, err)
		}
		if c.allocs, err = strconv.ParseFloat(f[9], 64); err != nil {
			return nil, fmt.Errorf("inittrace line %q: %w", line, err)
		}
		if _, dup := t[f[1]]; dup {
			return nil, fmt.Errorf("package %s initialised twice", f[1])
		}
		t[f[1]] = c
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("no inittrace lines (is GODEBUG=inittrace=1 honoured?)")
	}
	return t, nil
}

// summary is the median costs over the runs, by package and by group.
type summary struct {
	runs         int
	total        cost // medians over runs of the sums
	minMS, maxMS float64
	pkgs         map[string]cost // median per package
	group        map[string]string
	groups       map[string]cost // sums of the package medians
	groupPkgs    map[string]int
}

func summarize(traces []trace, g *graph) *summary {
	s := &summary{runs: len(traces), pkgs: map[string]cost{}, group: map[string]string{},
		groups: map[string]cost{}, groupPkgs: map[string]int{}}
	var totals []cost
	per := map[string][]cost{}
	for _, t := range traces {
		var sum cost
		for p, c := range t {
			per[p] = append(per[p], c)
			sum = add(sum, c)
		}
		totals = append(totals, sum)
	}
	s.total = medianCost(totals)
	ms := make([]float64, len(totals))
	for i, c := range totals {
		ms[i] = c.ms
	}
	sort.Float64s(ms)
	s.minMS, s.maxMS = ms[0], ms[len(ms)-1]
	for p, cs := range per {
		// A package missing from some runs counts zero there.
		for len(cs) < len(traces) {
			cs = append(cs, cost{})
		}
		c := medianCost(cs)
		s.pkgs[p] = c
		grp := g.groupOf(p)
		s.group[p] = grp
		s.groups[grp] = add(s.groups[grp], c)
		s.groupPkgs[grp]++
	}
	return s
}

func add(a, b cost) cost { return cost{a.ms + b.ms, a.bytes + b.bytes, a.allocs + b.allocs} }

// medianCost takes the median of each field on its own.
func medianCost(cs []cost) cost {
	field := func(get func(cost) float64) float64 {
		v := make([]float64, len(cs))
		for i, c := range cs {
			v[i] = get(c)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return cost{
		ms:     field(func(c cost) float64 { return c.ms }),
		bytes:  field(func(c cost) float64 { return c.bytes }),
		allocs: field(func(c cost) float64 { return c.allocs }),
	}
}
