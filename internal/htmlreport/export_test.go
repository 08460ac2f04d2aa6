package htmlreport

// StubAssets replaces the embedded uPlot with a marker, so golden files
// hold surge's own markup and not 50 KB of minified library; it returns a
// func that restores them.
func StubAssets() (restore func()) {
	js, css := uplotJS, uplotCSS
	uplotJS, uplotCSS = "/* uPlot 1.6.32 */", "/* uPlot css */"
	return func() { uplotJS, uplotCSS = js, css }
}
