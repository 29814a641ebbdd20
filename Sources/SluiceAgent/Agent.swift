import SluiceWire
