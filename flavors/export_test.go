package flavors

// For the tests of package flavors_test.
var (
	ParseDescribe = parseDescribe
	ParsePage     = parsePage
)
