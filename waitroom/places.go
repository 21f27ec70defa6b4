package waitroom

import "math"

// DefaultPlacesPerVisitor is a guess at the average places in one order,
// for EstimatePlaces when the organizer has not measured it.
const DefaultPlacesPerVisitor = 2

// LowPlacesMargin sets when places count as running low for a visitor:
// when the remaining places serve fewer than LowPlacesMargin times the
// people ahead of them, counting the visitor.
const LowPlacesMargin = 2

// PlacesOutlook is the estimate of the places left that the waiting page
// can show one visitor: "places remain for about People people; Ahead are
// ahead of you".
type PlacesOutlook struct {
	// Places counts free places left.
	Places int64
	// People estimates how many more visitors those places serve.
	People int64
	// Ahead counts the people who will book before this visitor: admitted
	// visitors still booking and those ahead in line.
	Ahead int64
	// Low is true when People is below LowPlacesMargin × (Ahead + 1), so
	// the page should show the outlook.
	Low bool
	// Enough is true when People exceeds Ahead, so a place probably remains
	// when this visitor's turn comes.
	Enough bool
}

// EstimatePlaces estimates how many visitors the free places serve at
// placesPerVisitor places per order (DefaultPlacesPerVisitor when it is not
// positive), for a visitor with ahead people in line before them while
// active admitted visitors are still booking.
//
// NOTE: the estimate assumes every visitor ahead books; visitors who leave
// without booking make it pessimistic, and held places are not counted.
func EstimatePlaces(places, active, ahead int64, placesPerVisitor float64) PlacesOutlook {
	if placesPerVisitor <= 0 {
		placesPerVisitor = DefaultPlacesPerVisitor
	}
	places = max(places, 0)
	people := int64(math.Floor(float64(places) / placesPerVisitor))
	before := max(active, 0) + max(ahead, 0)

	return PlacesOutlook{
		Places: places,
		People: people,
		Ahead:  before,
		Low:    people < LowPlacesMargin*(before+1),
		Enough: people > before,
	}
}
