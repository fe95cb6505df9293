package result

// Recount derives every count from the images' findings and statuses:
// each workload's findings by severity, each cluster's scanned, failed and
// findings (CountClusters), and the summary. New calls it; Filter calls it
// after narrowing the findings.
func (d *Document) Recount() {
	byDigest := make(map[string]*Image, len(d.Images))
	for _, img := range d.Images {
		if img.Target.Digest != "" {
			byDigest[img.Target.Digest] = img
		}
	}
	clusters := d.Summary.Clusters
	CountClusters(byDigest, d.Workloads, clusters)
	d.Summary = Summarize(d.Images)
	d.Summary.Clusters = clusters
}

// CountClusters sets, from the images by digest, each workload's findings
// by severity (over its unique digests) and each cluster's Scanned, Failed
// and Findings (over the unique digests its workloads run). A cluster scan
// counts with it once; Recount counts again after a filter.
func CountClusters(byDigest map[string]*Image, workloads []*Workload, clusters []Cluster) {
	perCluster := map[string]map[string]bool{}
	for _, w := range workloads {
		w.FindingsBySeverity = map[string]int{}
		seen := map[string]bool{}
		digests := perCluster[w.Cluster]
		if digests == nil {
			digests = map[string]bool{}
			perCluster[w.Cluster] = digests
		}
		for _, c := range w.Containers {
			r := byDigest[c.Digest]
			if c.Digest == "" || r == nil {
				continue
			}
			digests[c.Digest] = true
			if seen[c.Digest] {
				continue
			}
			seen[c.Digest] = true
			for _, f := range r.Findings {
				w.FindingsBySeverity[f.Severity]++
			}
		}
	}
	for i := range clusters {
		c := &clusters[i]
		c.Scanned, c.Failed, c.Findings = 0, 0, 0
		for d := range perCluster[c.Name] {
			r := byDigest[d]
			if r.Status == StatusFailed {
				c.Failed++
			} else {
				c.Scanned++
			}
			c.Findings += len(r.Findings)
		}
	}
}

// Summarize totals the given images.
func Summarize(images []*Image) Summary {
	s := Summary{BySeverity: map[string]int{}}
	for _, r := range images {
		s.Images++
		s.Tags += len(r.Tags)
		switch r.Status {
		case StatusScanned:
			s.Scanned++
		case StatusPartial:
			s.Partial++
		default:
			s.Failed++
		}
		s.Findings += len(r.Findings)
		for _, f := range r.Findings {
			s.BySeverity[f.Severity]++
		}
	}
	return s
}
