"""The SMS that carries an officer's verdict to the farmer: backends (console, Africa's Talking),
the message text, and the writes that send it once per verdict and erase the numbers afterwards."""
