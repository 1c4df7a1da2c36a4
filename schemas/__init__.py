"""Arrow schemas of every Chorus dataset, with their versions, and the dataset catalog."""
