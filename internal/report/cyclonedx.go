package report

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/result"
)

// Property names runlens adds to CycloneDX components and vulnerabilities.
const (
	cdxLayer    = "runlens:layer"
	cdxLocation = "runlens:location"
	cdxStatus   = "runlens:status"
	cdxError    = "runlens:error"
	cdxTier     = "runlens:tier"
	cdxScore    = "runlens:score"
	cdxEPSS     = "runlens:epss"
	cdxKEV      = "runlens:kev"
	cdxSuppress = "runlens:suppressed"
)

// serialNamespace is the UUID namespace of runlens's BOM serial numbers.
var serialNamespace = uuid.MustParse("6b8d3c52-7f0e-4d8a-9a51-2f6c1e7b9d40")

// writeCycloneDX writes the document as a CycloneDX 1.6 JSON BOM: the
// images with their packages, and the vulnerabilities found in them with
// the VEX analysis and ranking of their risks. Its serial number is
// derived from its content, so the same document gives the same BOM.
func writeCycloneDX(w io.Writer, doc *result.Document, _ Options) error {
	bom := cyclonedxBOM(doc)
	// The serial number is the hash of the BOM written without it: the
	// BOM is streamed twice, into the hash and then to w, never held.
	h := sha256.New()
	if err := streamCycloneDX(h, bom); err != nil {
		return err
	}
	bom.SerialNumber = uuid.NewSHA1(serialNamespace, h.Sum(nil)).URN()
	return streamCycloneDX(w, bom)
}

// streamCycloneDX writes bom as the library's pretty JSON encoder of
// spec version 1.6 does, its components, dependencies and
// vulnerabilities streamed one at a time: only the rest of the BOM goes
// through the library's version conversion (a deep copy).
func streamCycloneDX(w io.Writer, bom *cdx.BOM) error {
	skel := *bom
	var arrays []jsonArray
	if bom.Components != nil && len(*bom.Components) > 0 {
		list := *bom.Components
		skel.Components = &[]cdx.Component{{Type: cdx.ComponentTypeLibrary, BOMRef: "\x00runlens:components"}}
		arrays = append(arrays, jsonArray{marker: (*skel.Components)[0], n: len(list), elem: func(i int) any { return &list[i] }})
	}
	if bom.Dependencies != nil && len(*bom.Dependencies) > 0 {
		list := *bom.Dependencies
		skel.Dependencies = &[]cdx.Dependency{{Ref: "\x00runlens:dependencies"}}
		arrays = append(arrays, jsonArray{marker: (*skel.Dependencies)[0], n: len(list), elem: func(i int) any { return &list[i] }})
	}
	if bom.Vulnerabilities != nil && len(*bom.Vulnerabilities) > 0 {
		list := *bom.Vulnerabilities
		skel.Vulnerabilities = &[]cdx.Vulnerability{{BOMRef: "\x00runlens:vulnerabilities"}}
		arrays = append(arrays, jsonArray{marker: (*skel.Vulnerabilities)[0], n: len(list), elem: func(i int) any { return &list[i] }})
	}
	var body bytes.Buffer
	enc := cdx.NewBOMEncoder(&body, cdx.BOMFileFormatJSON).SetPretty(false).SetEscapeHTML(false)
	if err := enc.EncodeVersion(&skel, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("writing CycloneDX report: %w", err)
	}
	if err := streamJSONBody(w, body.Bytes(), false, arrays...); err != nil {
		return fmt.Errorf("writing CycloneDX report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing CycloneDX report: %w", err)
	}
	return nil
}

// cdxImage is one image of the BOM: its component and the bom-refs of its
// packages by packageKey.
type cdxImage struct {
	img       *result.Image
	component cdx.Component
	packages  map[string]string
}

// cyclonedxBOM builds the BOM of a document.
func cyclonedxBOM(doc *result.Document) *cdx.BOM {
	bom := cdx.NewBOM()
	refs := bomRefs{}
	images := make([]*cdxImage, 0, len(doc.Images))
	for _, img := range doc.Images {
		images = append(images, imageComponent(img, refs))
	}
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "runlens", Version: doc.Scanner.Version,
			ExternalReferences: &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: runlensURI}},
		}}},
	}
	if !doc.CreatedAt.IsZero() {
		bom.Metadata.Timestamp = doc.CreatedAt.UTC().Format(time.RFC3339)
	}
	var deps []cdx.Dependency
	var top []cdx.Component
	if len(images) == 1 {
		// One image: it is what the BOM describes; its packages are the
		// BOM's components.
		meta := images[0].component
		if meta.Components != nil {
			top = *meta.Components
		}
		meta.Components = nil
		bom.Metadata.Component = &meta
	} else {
		for _, ci := range images {
			top = append(top, ci.component)
		}
	}
	for _, ci := range images {
		if ci.component.Components == nil {
			continue
		}
		var on []string
		for _, c := range *ci.component.Components {
			on = append(on, c.BOMRef)
		}
		deps = append(deps, cdx.Dependency{Ref: ci.component.BOMRef, Dependencies: &on})
	}
	if len(top) > 0 {
		bom.Components = &top
	}
	if len(deps) > 0 {
		bom.Dependencies = &deps
	}
	if vulns := cdxVulnerabilities(doc, images); len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	return bom
}

// bomRefs hands out bom-refs unique within one BOM.
type bomRefs map[string]bool

// take returns ref, or ref with a "#n" suffix when it is taken already.
func (b bomRefs) take(ref string) string {
	out := ref
	for n := 2; b[out]; n++ {
		out = ref + "#" + strconv.Itoa(n)
	}
	b[out] = true
	return out
}

// imageComponent is an image as a container component with its packages
// nested: the document's package list when it has one, else the packages
// its findings name.
func imageComponent(img *result.Image, refs bomRefs) *cdxImage {
	purl := imagePURL(img)
	ref := purl
	if ref == "" {
		ref = "image:" + img.Target.Reference
	}
	c := cdx.Component{
		Type: cdx.ComponentTypeContainer, BOMRef: refs.take(ref), Name: imageRepository(img.Target.Reference),
		Version: img.Target.Digest, PackageURL: purl,
	}
	if tag := imageTag(img.Target.Reference); tag != "" {
		c.Tags = &[]string{tag}
	}
	if hex, ok := strings.CutPrefix(img.Target.Digest, "sha256:"); ok {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex}}
	}
	props := []cdx.Property{{Name: cdxStatus, Value: img.Status}}
	if img.Error != "" {
		props = append(props, cdx.Property{Name: cdxError, Value: img.Error})
	}
	c.Properties = &props
	ci := &cdxImage{img: img, packages: map[string]string{}}
	var nested []cdx.Component
	if img.Distro != nil && img.Distro.ID != "" {
		nested = append(nested, cdx.Component{Type: cdx.ComponentTypeOS, BOMRef: refs.take(c.BOMRef + "#os"),
			Name: img.Distro.ID, Version: img.Distro.VersionID, Description: img.Distro.PrettyName})
	}
	add := func(p inventory.Package) {
		key := inventoryKey(p)
		if _, ok := ci.packages[key]; ok {
			return
		}
		pc := packageComponent(p, c.BOMRef, refs)
		ci.packages[key] = pc.BOMRef
		nested = append(nested, pc)
	}
	for _, p := range img.Packages {
		add(p)
	}
	for _, f := range img.Findings {
		add(findingPackage(f.Package))
	}
	if len(nested) > 0 {
		c.Components = &nested
	}
	ci.component = c
	return ci
}

// packageComponent is one package of an image, its bom-ref the image's
// followed by the package's purl.
func packageComponent(p inventory.Package, imageRef string, refs bomRefs) cdx.Component {
	id := p.PURL
	if id == "" {
		id = p.Name + "@" + p.Version
	}
	c := cdx.Component{Type: cdx.ComponentTypeLibrary, BOMRef: refs.take(imageRef + "|" + id),
		Name: p.Name, Version: p.Version, PackageURL: p.PURL}
	var props []cdx.Property
	if p.Layer != "" {
		props = append(props, cdx.Property{Name: cdxLayer, Value: p.Layer})
	}
	for _, l := range p.Locations {
		props = append(props, cdx.Property{Name: cdxLocation, Value: l})
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}
