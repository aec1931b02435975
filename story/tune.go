package story

// The method's settings, chosen by measurement on the real labelled news
// (TestStoryData, TestMethodChoice with WIREWATCH_FULL=1). They are
// variables only so that TestMethodChoice can measure the alternatives.
var (
	// dropStops drops function words. Measured: it costs semeval F1
	// (the rarity weights already make them light) and helps nothing.
	dropStops = false
	// stemRunes cuts stems to this many letters (0: whole stems), which
	// joins the derived forms Snowball leaves apart (German compounds'
	// heads, Turkish and Arabic derivations).
	stemRunes = 7
	// titleCount is the count a title word adds (a lead word adds 1).
	titleCount = uint8(1)
	// idfPrior is the number of imaginary items, holding none of the
	// terms, that the document frequencies start from, so that the first
	// items of a quiet index are compared as plain word vectors.
	idfPrior = 50.0
	// halfTerms shapes the threshold's rise with the shorter item's
	// distinct terms: Threshold * (1 - exp(-n/halfTerms)).
	halfTerms = 6.0
	// storyDF counts document frequencies by story rather than by report.
	storyDF = true
	// useCentroid lets an item join a story by its centroid.
	useCentroid = true
	// centroidFactor scales the threshold for a story's centroid.
	centroidFactor = 0.65
)

// minCentroidStories is how many stories the index must hold before a
// story's centroid counts: a blend of reports is a blend of their rare
// words only once the index can tell rare words from common ones.
var minCentroidStories = 20
