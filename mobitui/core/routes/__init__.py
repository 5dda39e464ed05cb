"""How each Mobivate route is called: one module per route, as the simulator is split.

* :mod:`.subscription`: the Subscription API (``status`` and the RESTful
  ``unsubscribe``, signed with md5(account_id + campaign_id + msisdn));
* :mod:`.sendsms`: the MT stop notification (``/srs/api/sendsms``, ``+STOP`` / ``CLASS=PAUSE``);
* :mod:`.doi`: the MNO Web Opt-In stop (``/api/doi/...?stop=1``);
* :mod:`.plan`: the one function that builds the request a campaign's unsubscribe
  sends, used both for the confirmation dialog and for sending it;
* :mod:`.request`: the planned request itself, and the parts of it known only when sent.

These modules build requests and say what they do; they send nothing. Sending,
retrying and reading the answers is :class:`mobitui.core.client.MobivateClient`'s.
"""
