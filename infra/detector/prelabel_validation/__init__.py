"""The product's validation job around the detector's validator: the adapter that lets the
`prelabel` services (which never import the detector) open uploaded model files with
`prelabel_detector.validation` and package them with `prelabel_detector.artifact`."""
