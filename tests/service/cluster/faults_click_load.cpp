// The fault suite's official-client click load (players, pacing, outcome classes), compiled
// into this suite too rather than copied.
#include "../faults/click_load.cpp"
#include "../faults/fault_topology.cpp"
