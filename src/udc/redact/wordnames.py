"""First names that are also ordinary words, places or products ("Page", "Will", "Chase", "Austin", "Alexa").

A directory's first name that is none of these is a person wherever it stands as a word ("Marisol moves to the
Singapore office", "ping chinonso"); one of these only where its place says so ("ok, but Page is leaving"). The list
is written by hand: English words that are given names in English-speaking, African, Asian and Latin cultures, towns
and states people are named after, and products people talk to.
"""

from __future__ import annotations

_WORDS = """
abbey able ace adore aim alpha amber angel apple april arch art ash aspen aster august autumn azalea baker banks
basil bay beau bell belle berry beryl bill birch blaze bliss blossom blue bo bob bonnie bow brandy briar brook
brooks buck bud bunny buster butch cain cal camellia cameo candy cane carol cash chance charity chase cherry chip
christian clay cliff clove clover coal cole colt comfort coral cotton crystal cub dahlia daisy dale dash dawn day
deacon dean destiny dew diamond dimple dot dove drew duke dusty earl early echo eden ellis ember emerald ernest eve
ever faith favor favour fawn fern fidelity fleet ford forest forrest fortune fox frank free gale garnet gay gem gene
gift ginger given glad glen glory gold golden goldie goodluck goodness grace gracious grant gray grey guy hale happy
hardy harmony hart haven hawk hazel heath heather hero holly honest honey honor honour hope hugh hunter innocent
iris ivory ivy jack jade jasmine jay jean jewel jolly joy june juniper just justice kale kay kind king kit knight
knowledge lake lance lane lark laurel lavender law lee legend liberty lilac lily lion love loyal luck lucky mack
magnolia major march marigold mark marsh mason matt max may meadow mercy merit miles mill millie mint misty moon
moss myrtle nick noble norm north oak ocean olive onyx opal page palmer pansy park pat patience pearl penny pepper
percy petunia pierce pine piper plum poppy precious primrose prince promise prosper providence rain raven ray reed
rich river robin rock rocky rod rose rosemary ross ruby rush rusty saffron sage sandy sapphire scout serenity shady
shane shepherd silver skip sky skye slate snow sonny sparrow spring star sterling stone storm sue summer sunny
sunshine swift talent tanner temple thorn tiger topaz trinity true trust tucker unity valor van velvet violet wade
ward wendy west will willow win winter wisdom wolf wood woody wren young
"""
_PLACES = """
adelaide alexandria aurora austin boston brooklyn camden carolina charlotte chelsea cheyenne dakota dallas
denver devon dublin eugene florence florida frankfurt geneva georgia hamilton houston india indiana israel jersey
jordan kent kingston lincoln london madison memphis milan montana nevada orlando paris perth phoenix raleigh regina
savannah sierra sydney tennessee troy tyler vienna victoria virginia washington york
"""
_PRODUCTS = """
ada alexa bard cortana edge julia kafka lotus mercedes nova oracle pixel porsche python rails siri swift tesla
"""

WORD_NAMES = frozenset(_WORDS.split())
PLACE_NAMES = frozenset(_PLACES.split()) | frozenset(_PRODUCTS.split())  # ("in Austin", "ask Alexa": no place says)
